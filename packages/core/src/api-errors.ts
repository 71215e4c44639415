/**
 * Every error the api answers with: its code (stable for clients), its HTTP status and the
 * sentence it says when the thrower has nothing more precise. Services throw `DomainError`
 * with a code from here; only the api's HTTP layer turns it into a status and a
 * problem+json body. A code that is not listed here does not typecheck.
 */
export const API_ERRORS = {
  // 400: the request is malformed.
  VALIDATION_FAILED: { status: 400, sentence: "The request is not valid." },
  MALFORMED_JSON: { status: 400, sentence: "The request body is not valid JSON." },
  BAD_REQUEST: { status: 400, sentence: "The request could not be understood." },
  INVALID_CURSOR: { status: 400, sentence: "The cursor is not one this list gave out." },
  INVALID_EVENT: { status: 400, sentence: "The payment event could not be read." },
  INVALID_SIGNATURE: { status: 400, sentence: "The payment event's signature does not verify." },
  INVALID_IF_MATCH: { status: 400, sentence: "If-Match must be a revision this api gave out." },
  INVALID_POSITION: { status: 400, sentence: "The position is outside the playlist." },
  INVALID_RANGE: { status: 400, sentence: "The date range is not valid." },
  // 401: who is asking is not known.
  UNAUTHENTICATED: { status: 401, sentence: "Sign in to do this.", challenge: true },
  INVALID_CREDENTIALS: { status: 401, sentence: "The email or password is wrong." },
  INVALID_REFRESH_TOKEN: { status: 401, sentence: "The session has ended: sign in again." },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    sentence: "This session was used twice, so it has been ended: sign in again.",
  },
  // 402, 403: known, but not allowed.
  PLAN_REQUIRED: { status: 402, sentence: "This needs a Premium subscription." },
  FORBIDDEN: { status: 403, sentence: "You may not do this." },
  WRONG_PASSWORD: { status: 403, sentence: "The password is wrong." },
  GRANT_INVALID: {
    status: 403,
    sentence: "The playback grant is missing or not valid: ask for a new one.",
  },
  GRANT_EXPIRED: { status: 403, sentence: "The playback grant has expired: ask for a new one." },
  NOT_ARTIST_OWNER: { status: 403, sentence: "Only the artist's managers may do this." },
  NOT_PLAYLIST_OWNER: { status: 403, sentence: "Only the playlist's owner may do this." },
  // 404: not there, or not yours to see.
  NOT_FOUND: { status: 404, sentence: "It was not found." },
  ROUTE_NOT_FOUND: { status: 404, sentence: "There is no such route." },
  KEY_NOT_FOUND: { status: 404, sentence: "No key with that id belongs to this playback." },
  // 409: the state does not allow it now.
  EMAIL_TAKEN: { status: 409, sentence: "An account with this email exists." },
  ISRC_TAKEN: { status: 409, sentence: "Another track has this ISRC." },
  ALREADY_SUBSCRIBED: { status: 409, sentence: "You already have Premium." },
  REVISION_CONFLICT: { status: 409, sentence: "The playlist changed meanwhile: reload it." },
  SIZE_MISMATCH: { status: 409, sentence: "The stored file's size is not the size announced." },
  TRACK_NOT_READY: { status: 409, sentence: "The track is not ready to play yet." },
  UPLOAD_NOT_RECEIVED: { status: 409, sentence: "The file has not arrived in storage yet." },
  UPLOAD_PUBLISHED: { status: 409, sentence: "The upload is already a published track." },
  PROTECTION_OFF: { status: 409, sentence: "Content protection is off on this deployment." },
  // 413, 415: the content is refused.
  BODY_TOO_LARGE: { status: 413, sentence: "The request body is too large." },
  FILE_TOO_LARGE: { status: 413, sentence: "The file is larger than uploads may be." },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, sentence: "This kind of file is not accepted." },
  // 422: well-formed, but breaks a rule.
  WEAK_PASSWORD: { status: 422, sentence: "The password is too weak." },
  INVALID_OWNER: { status: 422, sentence: "The owner is not an account that may own this." },
  INVALID_GENRE: { status: 422, sentence: "The genre is not one of ours." },
  INVALID_RIGHT_PERIOD: { status: 422, sentence: "The right's period is not valid." },
  UNKNOWN_RIGHTS_HOLDER: { status: 422, sentence: "The rights holder does not exist." },
  SHARES_EXCEED_100: { status: 422, sentence: "The shares add up to more than 100%." },
  ALBUM_FULL: { status: 422, sentence: "The album has as many tracks as albums may have." },
  ALBUM_ARTIST_MISMATCH: { status: 422, sentence: "The album belongs to another artist." },
  PLAYLIST_FULL: { status: 422, sentence: "The playlist has as many tracks as it may have." },
  PLAYLIST_LIMIT: { status: 422, sentence: "You have as many playlists as you may have." },
  LIKE_LIMIT: { status: 422, sentence: "You have liked as many tracks as you may." },
  QUOTA_EXCEEDED: { status: 422, sentence: "Your storage quota is used up." },
  // 429: too much, too fast.
  RATE_LIMITED: { status: 429, sentence: "Too many requests: try again shortly." },
  TOO_MANY_UPLOADS_IN_FLIGHT: {
    status: 429,
    sentence: "Too many uploads are in progress: wait until some are done.",
  },
  // 451: rights.
  NOT_AVAILABLE_IN_TERRITORY: {
    status: 451,
    sentence: "This track is not licensed where you are.",
  },
  // 5xx: ours, or a provider's.
  INTERNAL: { status: 500, sentence: "Something went wrong on our side." },
  CONTENT_KEY_UNREADABLE: {
    status: 500,
    sentence: "The track's key could not be read on our side.",
  },
  PAYMENT_PROVIDER_ERROR: { status: 502, sentence: "The payment provider did not answer well." },
  BILLING_NOT_CONFIGURED: { status: 503, sentence: "Payments are not set up on this server." },
  REVOCATION_NOT_STORED: {
    status: 503,
    sentence: "The sign-out could not be recorded: try again.",
  },
  SERVICE_MISCONFIGURED: { status: 503, sentence: "The service is not configured correctly." },
} as const satisfies Record<string, { status: number; sentence: string; challenge?: true }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** Extra members of a problem body, e.g. per-field validation errors. */
export type ProblemExtras = Record<string, unknown>;

/**
 * A refusal in the platform's own terms, thrown by services whoever calls them (a route, a
 * queue consumer, a cron, a Durable Object). It knows nothing of HTTP: the api maps it.
 */
export class DomainError extends Error {
  readonly detail: string;
  readonly extras: ProblemExtras;
  /** When trying again may work: a rate or a concurrency limit. */
  readonly retryAfterSeconds: number | null;

  constructor(
    readonly code: ApiErrorCode,
    detail?: string,
    options: { extras?: ProblemExtras; retryAfterSeconds?: number } = {},
  ) {
    super(detail ?? API_ERRORS[code].sentence);
    this.name = "DomainError";
    this.detail = this.message;
    this.extras = options.extras ?? {};
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
  }
}
