import { toHex } from "./crypto";

/** Stripe's default tolerance between the signed timestamp and now. */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

const encoder = new TextEncoder();

const hmacKey = (secret: string, usage: "sign" | "verify") =>
  crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    usage,
  ]);

export type SignatureCheck =
  { ok: true; timestamp: number } | { ok: false; reason: "malformed" | "stale" | "no_match" };

/**
 * Verifies a `Stripe-Signature` header the way Stripe specifies: `t=<unix seconds>` and one
 * or more `v1=<hex HMAC-SHA256>` of `"<t>.<raw body>"` keyed with the endpoint secret; any
 * `v1` may match (secrets roll), other schemes (`v0`) are ignored, and the timestamp must be
 * within the tolerance. Each candidate is checked with WebCrypto's verify (constant time).
 */
export async function verifyStripeSignature(
  header: string | null,
  rawBody: string,
  secret: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = STRIPE_SIGNATURE_TOLERANCE_SECONDS,
): Promise<SignatureCheck> {
  if (!header) return { ok: false, reason: "malformed" };
  let timestamp: number | null = null;
  const signatures: Uint8Array[] = [];
  for (const part of header.split(",")) {
    const [key, value = ""] = part.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) signatures.push(fromHex(value));
  }
  if (timestamp === null || signatures.length === 0) return { ok: false, reason: "malformed" };
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: "stale" };
  const key = await hmacKey(secret, "verify");
  const signed = encoder.encode(`${timestamp}.${rawBody}`);
  for (const signature of signatures) {
    if (await crypto.subtle.verify("HMAC", key, signature, signed)) return { ok: true, timestamp };
  }
  return { ok: false, reason: "no_match" };
}

/** Signs like Stripe does (tests and local tooling use it to send webhooks). */
export async function stripeSignatureHeader(
  rawBody: string,
  secret: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<string> {
  const key = await hmacKey(secret, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${timestamp}.${rawBody}`));
  return `t=${timestamp},v1=${toHex(mac)}`;
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}
