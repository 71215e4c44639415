import { z } from "zod";
import type { S3Target } from "./presign";

const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["production", "development", "test"]),
  ADMIN_EMAILS: z.string().default(""),
  JWT_KEYS: z.string().min(2),
  JWT_ACTIVE_KID: z.string().min(1),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(3600),
  // Workers' WebCrypto caps PBKDF2 at 100,000 iterations.
  PASSWORD_PBKDF2_ITERATIONS: z.coerce.number().int().min(1000).max(100_000),
  R2_S3_ENDPOINT: z.url(),
  R2_BUCKET_NAME: z.string().min(1),
  R2_ACCESS_KEY_ID: z.string().min(1),
  R2_SECRET_ACCESS_KEY: z.string().min(1),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive(),
  UPLOAD_QUOTA_BYTES: z.coerce.number().int().positive(),
  UPLOADS_IN_FLIGHT_MAX: z.coerce.number().int().positive(),
  UPLOAD_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 24 * 3600),
  INGEST_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20),
  INGEST_MAX_DURATION_SECONDS: z.coerce.number().int().positive(),
  // "container": the TRANSCODER container binding (production); else the server's URL.
  TRANSCODER_URL: z.union([z.literal("container"), z.url()]),
  TRANSCODER_SECRET: z.string().min(8),
  GATE_ORIGIN: z.url(),
  PLAYBACK_KEYS: z.string().min(2),
  PLAYBACK_ACTIVE_KID: z.string().min(1),
  PLAY_COUNTER_SHARDS: z.coerce.number().int().min(1).max(64),
  PLAY_COUNTER_HOT_STREAMS: z.coerce.number().int().min(0),
  ROYALTY_RATE_PER_STREAM: z.coerce.number().min(0).max(1),
  ROYALTY_CURRENCY: z.string().regex(/^[A-Z]{3}$/),
  STRIPE_API_BASE: z.url(),
  STRIPE_PREMIUM_PRICE_ID: z.string().min(1),
  PREMIUM_PRICE_LABEL: z.string().min(1),
  PAYMENT_GRACE_DAYS: z.coerce.number().int().min(0).max(60),
  APP_ORIGIN: z.url(),
  STRIPE_SECRET_KEY: z.string().min(1).optional(),
  STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
});

export type Config = {
  environment: "production" | "development" | "test";
  adminEmails: ReadonlySet<string>;
  jwtKeys: string;
  jwtActiveKid: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  passwordIterations: number;
  storage: S3Target;
  uploads: { maxBytes: number; quotaBytes: number; inFlightMax: number; urlTtlSeconds: number };
  ingest: {
    maxAttempts: number;
    maxDurationSeconds: number;
    transcoderUrl: string;
    transcoderSecret: string;
  };
  playback: { gateOrigin: string; keys: Record<string, string>; activeKid: string };
  plays: {
    counterShards: number;
    hotTrackStreams: number;
    ratePerStream: number;
    currency: string;
  };
  billing: {
    stripeApiBase: string;
    premiumPriceId: string;
    premiumPriceLabel: string;
    graceDays: number;
    appOrigin: string;
    secretKey: string | null;
    webhookSecret: string | null;
  };
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
    storage: {
      endpoint: raw.R2_S3_ENDPOINT,
      bucket: raw.R2_BUCKET_NAME,
      accessKeyId: raw.R2_ACCESS_KEY_ID,
      secretAccessKey: raw.R2_SECRET_ACCESS_KEY,
    },
    uploads: {
      maxBytes: raw.UPLOAD_MAX_BYTES,
      quotaBytes: raw.UPLOAD_QUOTA_BYTES,
      inFlightMax: raw.UPLOADS_IN_FLIGHT_MAX,
      urlTtlSeconds: raw.UPLOAD_URL_TTL_SECONDS,
    },
    ingest: {
      maxAttempts: raw.INGEST_MAX_ATTEMPTS,
      maxDurationSeconds: raw.INGEST_MAX_DURATION_SECONDS,
      transcoderUrl: raw.TRANSCODER_URL,
      transcoderSecret: raw.TRANSCODER_SECRET,
    },
    playback: {
      gateOrigin: raw.GATE_ORIGIN.replace(/\/+$/, ""),
      keys: z.record(z.string(), z.string().min(16)).parse(JSON.parse(raw.PLAYBACK_KEYS)),
      activeKid: raw.PLAYBACK_ACTIVE_KID,
    },
    plays: {
      counterShards: raw.PLAY_COUNTER_SHARDS,
      hotTrackStreams: raw.PLAY_COUNTER_HOT_STREAMS,
      ratePerStream: raw.ROYALTY_RATE_PER_STREAM,
      currency: raw.ROYALTY_CURRENCY,
    },
    billing: {
      stripeApiBase: raw.STRIPE_API_BASE.replace(/\/+$/, ""),
      premiumPriceId: raw.STRIPE_PREMIUM_PRICE_ID,
      premiumPriceLabel: raw.PREMIUM_PRICE_LABEL,
      graceDays: raw.PAYMENT_GRACE_DAYS,
      appOrigin: raw.APP_ORIGIN.replace(/\/+$/, ""),
      secretKey: raw.STRIPE_SECRET_KEY ?? null,
      webhookSecret: raw.STRIPE_WEBHOOK_SECRET ?? null,
    },
  };
  cache.set(env, config);
  return config;
}

/** Emails compare case-insensitively and without surrounding space. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
