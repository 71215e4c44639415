import { z } from "zod";

const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["production", "development", "test"]),
  ADMIN_EMAILS: z.string().default(""),
  JWT_KEYS: z.string().min(2),
  JWT_ACTIVE_KID: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(3600),
  // Workers' WebCrypto caps PBKDF2 at 100,000 iterations.
  PASSWORD_PBKDF2_ITERATIONS: z.coerce.number().int().min(1000).max(100_000),
});

export type Config = {
  environment: "production" | "development" | "test";
  adminEmails: ReadonlySet<string>;
  jwtKeys: string;
  jwtActiveKid: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  passwordIterations: number;
};

const cache = new WeakMap<Env, Config>();

/** Parses the worker's vars and secrets once per isolate; a bad setting fails loudly. */
export function readConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const raw = ConfigSchema.parse(env);
  const config: Config = {
    environment: raw.ENVIRONMENT,
    adminEmails: new Set(
      raw.ADMIN_EMAILS.split(",")
        .map((email) => normalizeEmail(email))
        .filter((email) => email.length > 0),
    ),
    jwtKeys: raw.JWT_KEYS,
    jwtActiveKid: raw.JWT_ACTIVE_KID,
    accessTokenTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: raw.REFRESH_TOKEN_TTL_SECONDS,
    passwordIterations: raw.PASSWORD_PBKDF2_ITERATIONS,
  };
  cache.set(env, config);
  return config;
}

/** Emails compare case-insensitively and without surrounding space. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
