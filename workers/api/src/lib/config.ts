import { z } from "zod";
import { KeyRingError, parseKeyRing, type KeyRing } from "@edge-music/core/key-ring";
import {
  PLAY_CONCURRENT_STREAMS_DEFAULT,
  PLAY_REPEAT_DAILY_CAP_DEFAULT,
} from "@edge-music/core/play-events";
import type { S3Target } from "./presign";

/**
 * A setting or secret the worker cannot run with. Its message names the setting and what is
 * wrong with it, never a secret's value; requests answer 503 until it is fixed.
 */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["production", "development", "test"]),
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
  // How long a consumer owns a job: longer than the transcoder's longest job (18 minutes).
  INGEST_LEASE_SECONDS: z.coerce.number().int().min(10).max(3600),
  // "container": the TRANSCODER container binding (production); else the server's URL.
  TRANSCODER_URL: z.union([z.literal("container"), z.url()]),
  TRANSCODER_SECRET: z.string().min(8),
  GATE_ORIGIN: z.url(),
  PLAYBACK_KEYS: z.string().min(2),
  PLAYBACK_ACTIVE_KID: z.string().min(1),
  PLAY_COUNTER_SHARDS: z.coerce.number().int().min(1).max(64),
  PLAY_COUNTER_HOT_STREAMS: z.coerce.number().int().min(0),
  PLAY_CONCURRENT_STREAMS: z.coerce
    .number()
    .int()
    .min(1)
    .max(20)
    .default(PLAY_CONCURRENT_STREAMS_DEFAULT),
  PLAY_REPEAT_DAILY_CAP: z.coerce.number().int().min(1).default(PLAY_REPEAT_DAILY_CAP_DEFAULT),
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
  jwtKeys: KeyRing;
  jwtActiveKid: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  passwordIterations: number;
  storage: S3Target;
  uploads: { maxBytes: number; quotaBytes: number; inFlightMax: number; urlTtlSeconds: number };
  ingest: {
    maxAttempts: number;
    maxDurationSeconds: number;
    leaseSeconds: number;
    transcoderUrl: string;
    transcoderSecret: string;
  };
  playback: { gateOrigin: string; keys: KeyRing; activeKid: string };
  plays: {
    counterShards: number;
    hotTrackStreams: number;
    concurrentStreams: number;
    repeatDailyCap: number;
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

/**
 * Parses the worker's vars and secrets once per isolate. A bad setting throws ConfigError
 * naming it (key rings: see `parseKeyRing`), so the worker refuses to serve rather than run
 * with a guessable key.
 */
export function readConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join(".")} (${i.message})`);
    throw new ConfigError(`invalid settings: ${names.join("; ")}`);
  }
  const raw = parsed.data;
  const config: Config = {
    environment: raw.ENVIRONMENT,
    jwtKeys: keyRing(raw.JWT_KEYS, "JWT_KEYS", raw.JWT_ACTIVE_KID),
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
      leaseSeconds: raw.INGEST_LEASE_SECONDS,
      transcoderUrl: raw.TRANSCODER_URL,
      transcoderSecret: raw.TRANSCODER_SECRET,
    },
    playback: {
      gateOrigin: raw.GATE_ORIGIN.replace(/\/+$/, ""),
      keys: keyRing(raw.PLAYBACK_KEYS, "PLAYBACK_KEYS", raw.PLAYBACK_ACTIVE_KID),
      activeKid: raw.PLAYBACK_ACTIVE_KID,
    },
    plays: {
      counterShards: raw.PLAY_COUNTER_SHARDS,
      hotTrackStreams: raw.PLAY_COUNTER_HOT_STREAMS,
      concurrentStreams: raw.PLAY_CONCURRENT_STREAMS,
      repeatDailyCap: raw.PLAY_REPEAT_DAILY_CAP,
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

function keyRing(json: string, name: string, activeKid: string): KeyRing {
  try {
    return parseKeyRing(json, name, activeKid);
  } catch (error) {
    if (error instanceof KeyRingError) throw new ConfigError(error.message);
    throw error;
  }
}

/** Emails compare case-insensitively and without surrounding space. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
