import { z } from "zod";
import { fromBase64Url, toBase64Url } from "./bytes";
import { KEY_ID_PATTERN, type KeyRing } from "./key-ring";

/**
 * Playback tokens: minted by the api, checked by the stream-gate with no database. They
 * travel in URL paths (`/p/<token>/...`), so the format is URL-safe:
 * `v1.<kid>.<base64url JSON claims>.<base64url HMAC-SHA256>`; the key id lets keys rotate
 * without breaking playback already under way.
 */
export const PlaybackClaimsSchema = z.object({
  /** User the grant is for. */
  sub: z.string().min(1),
  /** Track and immutable asset version the token opens (`tracks/<trk>/<av>/`). */
  trk: z.string().min(1),
  av: z.string().min(1),
  /** Highest rendition rank allowed (see RENDITIONS). */
  max: z.number().int().min(1),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int(),
  /** Issued at, seconds since the epoch (absent on tokens from before revocation existed). */
  iat: z.number().int().optional(),
  /** The listener's territory at grant time (ISO alpha-2, `ZZ` unknown). */
  ter: z.string().length(2).optional(),
  /** Optional client IP binding. */
  ip: z.string().optional(),
  /** Download tokens: the one rendition they open, and the file name to save it as. */
  dl: z.string().optional(),
  fn: z.string().max(200).optional(),
});
export type PlaybackClaims = z.infer<typeof PlaybackClaimsSchema>;

export type TokenRefusal =
  "malformed" | "unknown_kid" | "bad_signature" | "expired" | "ip_mismatch";

const VERSION = "v1";
const encoder = new TextEncoder();

/** HMAC keys are imported once per isolate and secret (an import costs ~24 us). */
const keyCache = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      encoder.encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    keyCache.set(secret, key);
  }
  return key;
}

/**
 * Signs a JSON payload as `<tag>.<kid>.<base64url JSON>.<base64url HMAC-SHA256>`; the tag is
 * signed too, so a value minted for one purpose never passes for another.
 */
export async function signTagged(
  tag: string,
  payload: unknown,
  kid: string,
  keys: KeyRing,
): Promise<string> {
  const secret = keys.get(kid);
  if (secret === undefined || !KEY_ID_PATTERN.test(kid))
    throw new Error(`playback key ${kid} is not configured`);
  const body = `${tag}.${kid}.${toBase64Url(encoder.encode(JSON.stringify(payload)))}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(body));
  return `${body}.${toBase64Url(new Uint8Array(signature))}`;
}

/**
 * Checks a value made by `signTagged` with `tag`: known key id, then the signature
 * (WebCrypto's HMAC verify compares in constant time), then the payload against `schema`.
 */
export async function verifyTagged<T>(
  tag: string,
  value: string,
  keys: KeyRing,
  schema: z.ZodType<T>,
): Promise<{ ok: true; payload: T } | { ok: false; refusal: TokenRefusal }> {
  const parts = value.split(".");
  if (parts.length !== 4 || parts[0] !== tag) return { ok: false, refusal: "malformed" };
  const [, kid = "", payload = "", signatureText = ""] = parts;
  // A Map: a key id such as `__proto__` or `constructor` finds nothing.
  const secret = keys.get(kid);
  if (secret === undefined) return { ok: false, refusal: "unknown_kid" };
  const signature = fromBase64Url(signatureText);
  const payloadBytes = fromBase64Url(payload);
  if (!signature || !payloadBytes) return { ok: false, refusal: "malformed" };
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    signature,
    encoder.encode(`${tag}.${kid}.${payload}`),
  );
  if (!valid) return { ok: false, refusal: "bad_signature" };
  try {
    return { ok: true, payload: schema.parse(JSON.parse(new TextDecoder().decode(payloadBytes))) };
  } catch {
    return { ok: false, refusal: "malformed" };
  }
}

/** The file name a download token saves its file as (from its `fn` claim, made safe). */
export function downloadFileName(claims: PlaybackClaims): string {
  return `${(claims.fn ?? "track").replace(/[^\w .()-]/g, "_")}.m4a`;
}

/** Signs claims with the key `kid` of `keys`. */
export async function signPlaybackToken(
  claims: PlaybackClaims,
  kid: string,
  keys: KeyRing,
): Promise<string> {
  return signTagged(VERSION, PlaybackClaimsSchema.parse(claims), kid, keys);
}

/** Verifies a token: signature and claims, expiry and, when the token names one, the client IP. */
export async function verifyPlaybackToken(
  token: string,
  keys: KeyRing,
  options: { nowSeconds?: number; clientIp?: string } = {},
): Promise<{ ok: true; claims: PlaybackClaims } | { ok: false; refusal: TokenRefusal }> {
  const checked = await verifyTagged(VERSION, token, keys, PlaybackClaimsSchema);
  if (!checked.ok) return checked;
  const claims = checked.payload;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (claims.exp <= now) return { ok: false, refusal: "expired" };
  if (claims.ip !== undefined && claims.ip !== options.clientIp)
    return { ok: false, refusal: "ip_mismatch" };
  return { ok: true, claims };
}
