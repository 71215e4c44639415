import { describe, expect, it } from "vitest";
import { ContentKeyError, newContentKey, unwrapContentKey, wrapContentKey } from "./content-keys";

const secret = () => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const OLD = new Map([["kek0", secret()]]);
const ROTATED = new Map([...OLD, ["kek1", secret()]]);

describe("content key wrapping", () => {
  it("wraps a key so that only its KEK and key id open it, and the clear key is not in it", async () => {
    const key = newContentKey();
    expect(key.keyId).toMatch(/^[0-9a-f]{32}$/);
    expect(key.key).toMatch(/^[0-9a-f]{32}$/);
    const wrapped = await wrapContentKey(key, ROTATED, "kek1");
    expect(wrapped.kekId).toBe("kek1");
    expect(wrapped.wrappedKey).not.toContain(key.key);
    expect(await unwrapContentKey(wrapped, ROTATED)).toBe(key.key);
    // Wrapping twice gives different bytes (a fresh IV each time).
    expect((await wrapContentKey(key, ROTATED, "kek1")).wrappedKey).not.toBe(wrapped.wrappedKey);
  });

  it("refuses a tampered wrapped key", async () => {
    const wrapped = await wrapContentKey(newContentKey(), ROTATED, "kek1");
    const bytes = wrapped.wrappedKey;
    for (const at of [0, 16, bytes.length - 2]) {
      const flipped = `${bytes.slice(0, at)}${bytes[at] === "A" ? "B" : "A"}${bytes.slice(at + 1)}`;
      await expect(unwrapContentKey({ ...wrapped, wrappedKey: flipped }, ROTATED)).rejects.toThrow(
        ContentKeyError,
      );
    }
    await expect(
      unwrapContentKey({ ...wrapped, wrappedKey: bytes.slice(0, 10) }, ROTATED),
    ).rejects.toThrow(ContentKeyError);
  });

  it("does not open a wrapped key moved to another key id", async () => {
    const a = newContentKey();
    const wrapped = await wrapContentKey(a, ROTATED, "kek1");
    await expect(
      unwrapContentKey({ ...wrapped, keyId: newContentKey().keyId }, ROTATED),
    ).rejects.toThrow(/does not open/);
  });

  it("keeps opening keys wrapped by an older KEK after rotation, and refuses KEKs not in the ring", async () => {
    const key = newContentKey();
    const wrappedByOld = await wrapContentKey(key, OLD, "kek0");
    // The ring after rotation: the new active KEK beside the old one.
    expect(await unwrapContentKey(wrappedByOld, ROTATED)).toBe(key.key);
    // Wrapped under kek0 but labelled kek1: the wrong KEK does not open it.
    await expect(unwrapContentKey({ ...wrappedByOld, kekId: "kek1" }, ROTATED)).rejects.toThrow(
      ContentKeyError,
    );
    // A KEK id that is not configured (nor an inherited member of an object).
    for (const kekId of ["kek9", "__proto__", "constructor"]) {
      await expect(unwrapContentKey({ ...wrappedByOld, kekId }, ROTATED)).rejects.toThrow(
        /not in CONTENT_KEKS/,
      );
    }
  });
});
