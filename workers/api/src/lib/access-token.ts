import jwt from "@tsndr/cloudflare-worker-jwt";
import { z } from "zod";
import { ROLES, type Role } from "@edge-music/core/db/schema";
import type { KeyRing } from "@edge-music/core/key-ring";

const ALGORITHM = "HS256";
const ISSUER = "edge-music";

const ClaimsSchema = z.object({
  sub: z.string(),
  sid: z.string(),
  role: z.enum(ROLES),
  iss: z.literal(ISSUER),
  exp: z.number(),
  iat: z.number(),
});

export type AccessClaims = { userId: string; sessionId: string; role: Role };

/** Signs a short-lived access JWT with the active key, naming it in the `kid` header. */
export async function signAccessToken(
  claims: AccessClaims,
  keys: KeyRing,
  activeKid: string,
  ttlSeconds: number,
): Promise<string> {
  const secret = keys.get(activeKid);
  if (secret === undefined) throw new Error(`JWT key ${activeKid} is not configured`);
  const now = Math.floor(Date.now() / 1000);
  return jwt.sign(
    {
      sub: claims.userId,
      sid: claims.sessionId,
      role: claims.role,
      iss: ISSUER,
      iat: now,
      exp: now + ttlSeconds,
    },
    secret,
    { algorithm: ALGORITHM, header: { kid: activeKid, typ: "JWT" } },
  );
}

/**
 * Verifies an access JWT; null for anything not signed by one of our keys with HS256
 * (unknown kid, `alg: none`, other algorithms, bad signature, expired, malformed).
 */
export async function verifyAccessToken(
  token: string,
  keys: KeyRing,
): Promise<AccessClaims | null> {
  let kid: unknown;
  try {
    const decoded = jwt.decode<object, { kid?: string }>(token);
    if (decoded.header.alg !== ALGORITHM) return null;
    kid = decoded.header.kid;
  } catch {
    return null;
  }
  if (typeof kid !== "string") return null;
  // A Map: a `kid` of `__proto__` or `constructor` finds no key.
  const secret = keys.get(kid);
  if (secret === undefined) return null;
  const verified = await jwt.verify(token, secret, { algorithm: ALGORITHM }).catch(() => undefined);
  if (!verified) return null;
  const claims = ClaimsSchema.safeParse(verified.payload);
  if (!claims.success) return null;
  return { userId: claims.data.sub, sessionId: claims.data.sid, role: claims.data.role };
}
