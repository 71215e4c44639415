import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  API_ERRORS,
  DomainError,
  type ApiErrorCode,
  type ProblemExtras,
} from "@edge-music/core/api-errors";

/**
 * The HTTP side of the api's errors: services throw `DomainError` (codes, statuses and
 * sentences are in `@edge-music/core/api-errors`), and `onError` renders it here, once, as
 * an RFC 9457 problem+json body.
 */
const TITLES: Partial<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** Renders a problem+json response; errors are never cached. */
export function problemResponse(
  code: ApiErrorCode,
  detail: string,
  requestId: string,
  extras: ProblemExtras = {},
  headers: Record<string, string> = {},
): Response {
  const status = API_ERRORS[code].status as ContentfulStatusCode;
  const body = {
    // A name, not a link: problem types need not resolve (RFC 9457 section 3.1.1).
    type: `urn:problem-type:edge-music:${code.toLowerCase().replaceAll("_", "-")}`,
    title: TITLES[status] ?? "Error",
    status,
    detail,
    code,
    requestId,
    ...extras,
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "Content-Type": "application/problem+json",
      "Cache-Control": "no-store",
      ...headers,
    },
  });
}

/** The response for a thrown `DomainError`, with the headers its code and options call for. */
export function domainErrorResponse(error: DomainError, requestId: string): Response {
  const entry = API_ERRORS[error.code];
  return problemResponse(error.code, error.detail, requestId, error.extras, {
    ...("challenge" in entry ? { "WWW-Authenticate": 'Bearer realm="api"' } : {}),
    ...(error.retryAfterSeconds !== null ? { "Retry-After": String(error.retryAfterSeconds) } : {}),
  });
}

export const notFound = (what: string): DomainError =>
  new DomainError("NOT_FOUND", `${what} was not found.`);
