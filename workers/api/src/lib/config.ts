import { z } from "zod";
import { CONTENT_PROTECTION_MODES } from "@edge-music/core/content-protection";
import { KeyRingError, parseKeyRing } from "@edge-music/core/key-ring";
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

const origin = (url: string) => url.replace(/\/+$/, "");

/**
 * A key ring (see `parseKeyRing`) as part of the schema: a bad ring is an issue naming the
 * setting, like any other bad setting.
 */
function keyRing(raw: { json: string; name: string; activeKid: string }, ctx: z.RefinementCtx) {
  try {
    return parseKeyRing(raw.json, raw.name, raw.activeKid);
  } catch (error) {
    if (!(error instanceof KeyRingError)) throw error;
    ctx.addIssue({ code: "custom", path: [raw.name], message: error.message });
    return z.NEVER;
  }
}

/**
 * Every setting the api reads, once: its name and checks as the worker sees it (strings from
 * `wrangler.toml` and secrets), and the shape the code uses. `Config` is inferred from it.
 * Values live in `wrangler.toml` only (a test checks each var there has a line here and the
 * production environment has the same names); no setting has a default in code. The two
 * optional Stripe secrets are absent in development.
 */
const ConfigSchema = z
  .object({
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
    // "true": the cleanup cron only logs what it would delete.
    CLEANUP_DRY_RUN: z.enum(["true", "false"]),
    GATE_ORIGIN: z.url(),
    PLAYBACK_KEYS: z.string().min(2),
    PLAYBACK_ACTIVE_KID: z.string().min(1),
    // "cbcs": new renditions are encrypted and keys come from the license endpoint; "off": clear.
    CONTENT_PROTECTION: z.enum(CONTENT_PROTECTION_MODES),
    // Key-encryption keys that wrap content keys (a ring, so they rotate); the active one wraps.
    CONTENT_KEKS: z.string().min(2),
    CONTENT_KEK_ACTIVE_KID: z.string().min(1),
    PLAY_COUNTER_SHARDS: z.coerce.number().int().min(1).max(64),
    PLAY_COUNTER_HOT_STREAMS: z.coerce.number().int().min(0),
    // How long a play counter gathers events before it writes them to D1.
    PLAYS_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600),
    // Playbacks of one account that may gather counted time at once (one person, two devices).
    PLAY_CONCURRENT_STREAMS: z.coerce.number().int().min(1).max(20),
    // Royalty-bearing streams of one track by one account per UTC day; more are REPEAT_CAP.
    PLAY_REPEAT_DAILY_CAP: z.coerce.number().int().min(1),
    ROYALTY_RATE_PER_STREAM: z.coerce.number().min(0).max(1),
    ROYALTY_CURRENCY: z.string().regex(/^[A-Z]{3}$/),
    STRIPE_API_BASE: z.url(),
    STRIPE_PREMIUM_PRICE_ID: z.string().min(1),
    PREMIUM_PRICE_LABEL: z.string().min(1),
    PAYMENT_GRACE_DAYS: z.coerce.number().int().min(0).max(60),
    APP_ORIGIN: z.url(),
    STRIPE_SECRET_KEY: z.string().min(1).optional(),
    STRIPE_WEBHOOK_SECRET: z.string().min(1).optional(),
  })
  .transform((raw, ctx) => ({
    environment: raw.ENVIRONMENT,
    jwtKeys: keyRing({ json: raw.JWT_KEYS, name: "JWT_KEYS", activeKid: raw.JWT_ACTIVE_KID }, ctx),
    jwtActiveKid: raw.JWT_ACTIVE_KID,
    accessTokenTtlSeconds: raw.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlSeconds: raw.REFRESH_TOKEN_TTL_SECONDS,
    passwordIterations: raw.PASSWORD_PBKDF2_ITERATIONS,
    storage: {
      endpoint: raw.R2_S3_ENDPOINT,
      bucket: raw.R2_BUCKET_NAME,
      accessKeyId: raw.R2_ACCESS_KEY_ID,
      secretAccessKey: raw.R2_SECRET_ACCESS_KEY,
    } satisfies S3Target,
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
    cleanupDryRun: raw.CLEANUP_DRY_RUN === "true",
    playback: {
      gateOrigin: origin(raw.GATE_ORIGIN),
      keys: keyRing(
        { json: raw.PLAYBACK_KEYS, name: "PLAYBACK_KEYS", activeKid: raw.PLAYBACK_ACTIVE_KID },
        ctx,
      ),
      activeKid: raw.PLAYBACK_ACTIVE_KID,
    },
    protection: {
      mode: raw.CONTENT_PROTECTION,
      keks: keyRing(
        { json: raw.CONTENT_KEKS, name: "CONTENT_KEKS", activeKid: raw.CONTENT_KEK_ACTIVE_KID },
        ctx,
      ),
      activeKekId: raw.CONTENT_KEK_ACTIVE_KID,
    },
    plays: {
      counterShards: raw.PLAY_COUNTER_SHARDS,
      hotTrackStreams: raw.PLAY_COUNTER_HOT_STREAMS,
      flushSeconds: raw.PLAYS_FLUSH_SECONDS,
      concurrentStreams: raw.PLAY_CONCURRENT_STREAMS,
      repeatDailyCap: raw.PLAY_REPEAT_DAILY_CAP,
      ratePerStream: raw.ROYALTY_RATE_PER_STREAM,
      currency: raw.ROYALTY_CURRENCY,
    },
    billing: {
      stripeApiBase: origin(raw.STRIPE_API_BASE),
      premiumPriceId: raw.STRIPE_PREMIUM_PRICE_ID,
      premiumPriceLabel: raw.PREMIUM_PRICE_LABEL,
      graceDays: raw.PAYMENT_GRACE_DAYS,
      appOrigin: origin(raw.APP_ORIGIN),
      secretKey: raw.STRIPE_SECRET_KEY ?? null,
      webhookSecret: raw.STRIPE_WEBHOOK_SECRET ?? null,
    },
  }));

export type Config = z.output<typeof ConfigSchema>;

/** The names of the worker's settings (vars and secrets), for the test that checks the toml. */
export const SETTING_NAMES: readonly string[] = Object.keys(ConfigSchema.in.shape);

/**
 * The settings that are secrets: set with `wrangler secret put` (locally in `.dev.vars`),
 * never in `wrangler.toml`. All the others are vars there.
 */
export const SECRET_NAMES: readonly string[] = [
  "JWT_KEYS",
  "R2_ACCESS_KEY_ID",
  "R2_SECRET_ACCESS_KEY",
  "TRANSCODER_SECRET",
  "PLAYBACK_KEYS",
  "CONTENT_KEKS",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
];

const cache = new WeakMap<Env, Config>();

/**
 * Parses the worker's vars and secrets once per isolate. A bad setting throws ConfigError
 * naming it, so the worker refuses to serve rather than run with a guessable key.
 */
export function readConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => `${i.path.join(".")} (${i.message})`);
    throw new ConfigError(`invalid settings: ${names.join("; ")}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

/** Emails compare case-insensitively and without surrounding space. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
