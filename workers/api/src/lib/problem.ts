import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Extra members of a problem body, e.g. per-field validation errors. */
export type ProblemExtras = Record<string, unknown>;

/**
 * The one error type of the api: thrown anywhere, rendered once by `onError` as an
 * RFC 9457 problem+json body. `code` is SCREAMING_SNAKE and stable for clients.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    readonly detail: string,
    readonly extras: ProblemExtras = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ApiError";
  }
}

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
  status: ContentfulStatusCode,
  code: string,
  detail: string,
  requestId: string,
  extras: ProblemExtras = {},
  headers: Record<string, string> = {},
): Response {
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

export const notFound = (what: string): ApiError =>
  new ApiError(404, "NOT_FOUND", `${what} was not found.`);
