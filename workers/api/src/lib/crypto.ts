import { toBase64Url, toHex } from "@edge-music/core/bytes";

export { toBase64Url, toHex };

const encoder = new TextEncoder();

export function fromBase64(text: string): Uint8Array {
  const normal = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality for secrets; length leaks, content does not. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return crypto.subtle.timingSafeEqual(a, b);
}

/** Prefixed random id, e.g. `trk_5f0c...` (96 random bits). */
export function newId(prefix: string): string {
  return `${prefix}_${toHex(randomBytes(12))}`;
}
