import { fromBase64Url, toBase64Url, toHex, hexToBytes } from "@edge-music/core/bytes";
import { and, count, eq, ne } from "drizzle-orm";
import { DomainError } from "@edge-music/core/api-errors";
import { contentKeys } from "@edge-music/core/db/schema";
import { decodeKeyText, type KeyRing } from "@edge-music/core/key-ring";
import type { Db } from "../../lib/db";
import { log } from "../../lib/log";

/** A content key: key id and key, 32 hex digits each (as the packager and manifests write them). */
export type ContentKey = { keyId: string; key: string };
/** A content key as stored: wrapped under the key-encryption key `kekId`. */
export type WrappedContentKey = { keyId: string; kekId: string; wrappedKey: string };

export class ContentKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ContentKeyError";
  }
}

const IV_BYTES = 12;
const encoder = new TextEncoder();

/** A fresh random key and key id for one asset version. */
export function newContentKey(): ContentKey {
  return {
    keyId: toHex(crypto.getRandomValues(new Uint8Array(16))),
    key: toHex(crypto.getRandomValues(new Uint8Array(16))),
  };
}

/** AES-256-GCM keys derived from the ring's secrets, once per isolate and secret. */
const kekCache = new Map<string, Promise<CryptoKey>>();
function kek(keks: KeyRing, kekId: string): Promise<CryptoKey> {
  // A Map: a kek id from a stored row finds only keys we configured.
  const secret = keks.get(kekId);
  const bytes = secret === undefined ? null : decodeKeyText(secret);
  if (!bytes) throw new ContentKeyError(`key-encryption key ${kekId} is not in CONTENT_KEKS`);
  let key = kekCache.get(secret ?? "");
  if (!key) {
    // HKDF: whatever the ring secret's length, a 256-bit key used for nothing but this.
    key = crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey"]).then((base) =>
      crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(0),
          info: encoder.encode("edge-music content key wrapping v1"),
        },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      ),
    );
    kekCache.set(secret ?? "", key);
  }
  return key;
}

/**
 * Wraps a content key under the key-encryption key `kekId`, with the key id as associated
 * data: the wrapped key opens only as the key of that key id.
 */
export async function wrapContentKey(
  key: ContentKey,
  keks: KeyRing,
  kekId: string,
): Promise<WrappedContentKey> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(key.keyId) },
    await kek(keks, kekId),
    hexToBytes(key.key),
  );
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return { keyId: key.keyId, kekId, wrappedKey: toBase64Url(out) };
}

/** The clear key (hex) of a stored key; ContentKeyError when it does not open. */
export async function unwrapContentKey(stored: WrappedContentKey, keks: KeyRing): Promise<string> {
  const bytes = fromBase64Url(stored.wrappedKey);
  if (!bytes || bytes.length <= IV_BYTES) throw new ContentKeyError("wrapped key is malformed");
  try {
    const key = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: bytes.slice(0, IV_BYTES),
        additionalData: encoder.encode(stored.keyId),
      },
      await kek(keks, stored.kekId),
      bytes.slice(IV_BYTES),
    );
    return toHex(new Uint8Array(key));
  } catch (error) {
    if (error instanceof ContentKeyError) throw error;
    throw new ContentKeyError(`wrapped key ${stored.keyId} does not open (tampered or wrong kek)`);
  }
}

/**
 * The clear key of a stored key for serving (a license, a download): a key that does not open
 * is logged by its ids only and refused as CONTENT_KEY_UNREADABLE, never answered wrongly.
 */
export async function openContentKey(stored: WrappedContentKey, keks: KeyRing): Promise<string> {
  try {
    return await unwrapContentKey(stored, keks);
  } catch (error) {
    if (!(error instanceof ContentKeyError)) throw error;
    log("error", "content key unreadable", { error: error.message });
    throw new DomainError("CONTENT_KEY_UNREADABLE");
  }
}

/** Keys re-wrapped per call: each is one D1 update. */
const REWRAP_BATCH = 200;

/**
 * Re-wraps up to a batch of stored keys that are not under the active KEK, so an old KEK can
 * leave the ring once none is left under it. Each update is conditional on the row being as
 * read (two admins at once re-wrap each key once). Returns how many were done and remain.
 */
export async function rewrapContentKeys(
  db: Db,
  keks: KeyRing,
  activeKekId: string,
): Promise<{ rewrapped: number; remaining: number }> {
  const stale = await db
    .select()
    .from(contentKeys)
    .where(ne(contentKeys.kekId, activeKekId))
    .limit(REWRAP_BATCH);
  let rewrapped = 0;
  for (const stored of stale) {
    const key = await openContentKey(stored, keks);
    const fresh = await wrapContentKey({ keyId: stored.keyId, key }, keks, activeKekId);
    const done = await db
      .update(contentKeys)
      .set({ kekId: fresh.kekId, wrappedKey: fresh.wrappedKey })
      .where(and(eq(contentKeys.keyId, stored.keyId), eq(contentKeys.kekId, stored.kekId)))
      .returning({ keyId: contentKeys.keyId });
    rewrapped += done.length;
  }
  const [left] = await db
    .select({ n: count() })
    .from(contentKeys)
    .where(ne(contentKeys.kekId, activeKekId));
  return { rewrapped, remaining: left?.n ?? 0 };
}

/** The stored (wrapped) key of an asset version; undefined when its media is clear. */
export function storedContentKey(db: Db, assetVersionId: string) {
  return db.select().from(contentKeys).where(eq(contentKeys.assetVersionId, assetVersionId)).get();
}
