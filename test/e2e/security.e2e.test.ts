import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeMusic } from "@edge-music/testkit/lavfi-media";
import { startStack, type Stack } from "./stack";
import type { PlaybackGrant } from "@edge-music/core/api-contract";

/**
 * The attacks of the security review, against the real local stack (the api and the gate
 * under `wrangler dev`, the transcoder, local D1, R2 and Durable Objects), over HTTP, as an
 * attacker on the network would try them.
 */
type Json = Record<string, unknown>;
let stack: Stack;
let dir: string;

async function call<T = Json>(
  method: string,
  route: string,
  options: { token?: string; body?: unknown; country?: string } = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${stack.api}${route}`, {
    method,
    headers: {
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(options.country ? { "X-Dev-Country": options.country } : {}),
    },
    body: options.body === undefined ? null : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function account(email: string) {
  const res = await call<{ accessToken: string; user: { id: string; role: string } }>(
    "POST",
    "/v1/auth/register",
    { body: { email, password: "correct horse battery", displayName: email.split("@")[0] } },
  );
  expect(res.status).toBe(201);
  return { token: res.body.accessToken, id: res.body.user.id, role: res.body.user.role, email };
}

const grant = async (token: string, trackId: string, country = "DE") => {
  const res = await call<PlaybackGrant>("POST", `/v1/tracks/${trackId}/playback`, {
    token,
    body: {},
    country,
  });
  expect(res.status).toBe(200);
  // These tracks are published with a progressive (single-file) rendition.
  expect(res.body.progressive).toEqual(expect.any(String));
  return { ...res.body, progressive: res.body.progressive as string };
};

const b64url = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString("base64")
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

/** A value signed with an inherited member's text as the key, as a plain-object ring would. */
async function forgeWithInheritedKid(tag: string, kid: string, claims: unknown) {
  const body = `${tag}.${kid}.${b64url(new TextEncoder().encode(JSON.stringify(claims)))}`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(String(Reflect.get({}, kid))),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body));
  return `${body}.${b64url(new Uint8Array(mac))}`;
}

const event = (
  playbackId: string,
  trackId: string,
  type: string,
  playedMs: number,
  at: number,
) => ({
  eventId: crypto.randomUUID(),
  playbackId,
  trackId,
  type,
  positionMs: playedMs,
  playedMs,
  rendition: "aac_64",
  occurredAt: new Date(at).toISOString(),
});

let artist: { token: string; id: string };
let trackId: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(path.join(tmpdir(), "e2e-security-"));
  // The operator makes the first admin; the admin makes an artist, who uploads a public track.
  const admin = await account("owner@e2e.local");
  stack.grantAdmin(admin.email);
  const a = await account("artist@e2e.local");
  expect(
    (await call("PUT", `/v1/users/${a.id}/role`, { token: admin.token, body: { role: "artist" } }))
      .status,
  ).toBe(200);
  artist = a;
  const band = await call<{ id: string }>("POST", "/v1/artists", {
    token: a.token,
    body: { name: "Target Band" },
  });
  const file = path.join(dir, "target.mp3");
  makeMusic(file, 40, { codec: ["-c:a", "libmp3lame", "-b:a", "128k"], tags: { title: "Target" } });
  const bytes = await readFile(file);
  const created = await call<{ uploadId: string; putUrl: string; headers: Record<string, string> }>(
    "POST",
    "/v1/uploads",
    {
      token: a.token,
      body: {
        filename: "target.mp3",
        contentType: "audio/mpeg",
        size: bytes.length,
        artistId: band.body.id,
        visibility: "public",
      },
    },
  );
  expect(
    (
      await fetch(created.body.putUrl, {
        method: "PUT",
        headers: created.body.headers,
        body: bytes,
      })
    ).status,
  ).toBe(200);
  await call("POST", `/v1/uploads/${created.body.uploadId}/complete`, { token: a.token });
  for (const deadline = Date.now() + 90_000; Date.now() < deadline;) {
    const state = await call<{ state: string; trackId: string | null }>(
      "GET",
      `/v1/uploads/${created.body.uploadId}`,
      { token: a.token },
    );
    if (state.body.state === "ready" && state.body.trackId) {
      trackId = state.body.trackId;
      break;
    }
    expect(state.body.state).not.toBe("failed");
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(trackId).toBeTruthy();
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("forgery, without an account", () => {
  it.each(["__proto__", "constructor", "toString", "hasOwnProperty"])(
    "a gate token with the inherited key id %s opens nothing",
    async (kid) => {
      const real = await grant(
        (await account(`probe-${kid.replace(/_/g, "")}@e2e.local`)).token,
        trackId,
      );
      // The asset the real token names, with a forged token for the lossless rendition.
      const claims = JSON.parse(
        Buffer.from(real.token.split(".")[2] ?? "", "base64url").toString(),
      );
      const forged = await forgeWithInheritedKid("v1", kid, { ...claims, sub: "nobody", max: 4 });
      for (const file of ["flac/media.mp4", "master.m3u8", "aac_64/media.mp4"]) {
        const res = await fetch(`${stack.gate}/p/${forged}/${file}`);
        expect(res.status, `${kid} ${file}`).toBe(403);
      }
      // The real token works, so the refusal is the forgery's.
      expect((await fetch(real.progressive)).status).toBe(200);
    },
  );

  it("a playback id with an inherited key id is no grant and counts nothing", async () => {
    const fan = await account("forger@e2e.local");
    const now = Date.now();
    const forged = await forgeWithInheritedKid("pb2", "__proto__", {
      sub: fan.id,
      trk: trackId,
      ter: "DE",
      pln: "premium",
      shd: 0,
      iat: now - 120_000,
      exp: now + 3_600_000,
      n: "forged-nonce",
    });
    const res = await call<{ results: { code?: string }[] }>("POST", "/v1/playback-events", {
      token: fan.token,
      body: { events: [event(forged, trackId, "end", 35_000, now)] },
    });
    expect(res.body.results.map((r) => r.code)).toEqual(["NO_GRANT"]);
  });
});

describe("accounts", () => {
  it("registering the demo or any admin address makes a listener, never an admin", async () => {
    for (const email of ["admin@demo.local", "root@e2e.local"]) {
      const who = await account(email);
      expect(who.role).toBe("listener");
      const promote = await call("PUT", `/v1/users/${who.id}/role`, {
        token: who.token,
        body: { role: "admin" },
      });
      expect(promote.status).toBe(403);
    }
  });
});

describe("royalty fraud", () => {
  it("twenty grants of one track, each ended 31 s later, count two streams", async () => {
    const cheat = await account("cheat@e2e.local");
    const grants = [];
    for (let i = 0; i < 20; i++) grants.push(await grant(cheat.token, trackId));
    const startedAt = Date.now();
    await new Promise((r) => setTimeout(r, 31_500));
    const res = await call<{ accepted: number; results: { code?: string }[] }>(
      "POST",
      "/v1/playback-events",
      {
        token: cheat.token,
        body: {
          events: grants.flatMap((g) => [
            event(g.playbackId, trackId, "start", 0, startedAt),
            event(g.playbackId, trackId, "end", 31_000, startedAt + 31_000),
          ]),
        },
      },
    );
    expect(res.status).toBe(200);
    const codes = res.body.results.map((r) => r.code ?? "accepted");
    expect(codes.filter((c) => c === "TOO_MANY_STREAMS")).toHaveLength(18);
    const stats = await call<{ totals: { streams: number } }>(
      "GET",
      `/v1/tracks/${trackId}/stats`,
      { token: artist.token },
    );
    expect(stats.body.totals.streams).toBe(2);
  }, 90_000);
});

describe("a track that stops being playable", () => {
  it("is refused at the gate within its memo time, for those who lost it only", async () => {
    const inGermany = await grant((await account("de@e2e.local")).token, trackId, "DE");
    const inFrance = await grant((await account("fr@e2e.local")).token, trackId, "FR");
    expect((await fetch(inGermany.progressive)).status).toBe(200);
    const admin = await account("label-admin@e2e.local");
    stack.grantAdmin(admin.email);
    const holder = await call<{ id: string }>("POST", "/v1/rights-holders", {
      token: admin.token,
      body: { name: "French label" },
    });
    const rights = await call("PUT", `/v1/tracks/${trackId}/rights`, {
      token: admin.token,
      body: { rights: [{ territory: "FR", type: "stream", holderId: holder.body.id, share: 1 }] },
    });
    expect(rights.status).toBe(200);
    // The gate trusts what it read for GATE_REVOCATION_MEMO_SECONDS (2 s here).
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await fetch(inGermany.progressive)).status).toBe(403);
    expect((await fetch(inGermany.hls)).status).toBe(403);
    expect((await fetch(inFrance.progressive)).status).toBe(200);
    // And a new grant in Germany says why.
    const again = await call<{ code: string }>("POST", `/v1/tracks/${trackId}/playback`, {
      token: (await account("de2@e2e.local")).token,
      body: {},
      country: "DE",
    });
    expect(again.status).toBe(451);
    expect(again.body.code).toBe("NOT_AVAILABLE_IN_TERRITORY");
  });
});
