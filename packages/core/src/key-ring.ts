/**
 * Key rings: the HMAC keys of JWTs, playback tokens and playback ids, by key id. A ring is a
 * `Map`, so a key id taken from a request (`__proto__`, `constructor`, ...) finds only keys we
 * configured, never an inherited member of a plain object. Rings are validated when loaded:
 * a bad ring stops the service with a message that names the problem, never the key.
 */
export type KeyRing = ReadonlyMap<string, string>;

/** Key ids travel in tokens and headers: short and plain. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
/** Every key: at least this many bytes once decoded from base64 or base64url. */
export const KEY_MIN_BYTES = 32;
/**
 * Random 32 bytes have ~30 distinct values; fewer than this means typed text or a pattern
 * (`"aaaa..."`, a repeated word), not a random key.
 */
const KEY_MIN_DISTINCT_BYTES = 16;

export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyRingError";
  }
}

/** base64 or base64url (padding optional) to bytes; null when it is neither. */
export function decodeKeyText(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return null;
  const normal = text.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/");
  if (normal.length % 4 === 1) return null;
  try {
    const binary = atob(normal + "=".repeat((4 - (normal.length % 4)) % 4));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

/** Why a key text is not a key (null when it is one). */
export function keyProblem(text: string): string | null {
  const bytes = decodeKeyText(text);
  if (!bytes) return "is not base64 or base64url";
  if (bytes.length < KEY_MIN_BYTES) {
    return `has ${bytes.length} bytes; at least ${KEY_MIN_BYTES} random bytes are needed`;
  }
  if (new Set(bytes).size < KEY_MIN_DISTINCT_BYTES) return "does not look random";
  return null;
}

/**
 * Parses `{"<kid>": "<base64 key>", ...}` from a secret named `name`. Throws KeyRingError
 * for anything else: not JSON, not an object, no keys, a key id outside KEY_ID_PATTERN, a key
 * under KEY_MIN_BYTES, or an `activeKid` (the key that signs) missing from the ring.
 */
export function parseKeyRing(json: string, name: string, activeKid?: string): KeyRing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new KeyRingError(`${name} is not JSON: expected {"<key id>": "<base64 key>"}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new KeyRingError(`${name} must be a JSON object of key ids to keys`);
  }
  const ring = new Map<string, string>();
  for (const [kid, key] of Object.entries(parsed)) {
    if (!KEY_ID_PATTERN.test(kid)) {
      throw new KeyRingError(
        `${name}: key id ${JSON.stringify(kid.slice(0, 40))} must match ${KEY_ID_PATTERN}`,
      );
    }
    if (typeof key !== "string") throw new KeyRingError(`${name}: key ${kid} is not a string`);
    const problem = keyProblem(key);
    if (problem) throw new KeyRingError(`${name}: key ${kid} ${problem}`);
    ring.set(kid, key);
  }
  if (ring.size === 0) throw new KeyRingError(`${name} holds no keys`);
  if (activeKid !== undefined && !ring.has(activeKid)) {
    throw new KeyRingError(`${name} has no key ${JSON.stringify(activeKid)} (the active key id)`);
  }
  return ring;
}
