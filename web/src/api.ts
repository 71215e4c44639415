import type { ApiErrorCode } from "@edge-music/core/api-errors";
import type { TokenPair, User } from "./types";
/** A refusal from the api, as RFC 9457 problem+json says it. */
/** A problem+json code from the api's catalogue, or `HTTP_<status>` when a body had none. */
export type ProblemCode = ApiErrorCode | `HTTP_${number}`;

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    detail: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

const REFRESH_KEY = "edge-music.refresh";

/** `keepalive`: the request outlives the page (events sent as it is hidden). */
export type RequestOptions = {
  auth?: boolean;
  headers?: Record<string, string>;
  keepalive?: boolean;
};
const NO_AUTH: RequestOptions = { auth: false };

/**
 * The api client: JSON in and out, the access token kept in memory, the refresh token in
 * localStorage (so a reload stays signed in), one refresh and retry on 401.
 */
export class Api {
  #access: string | null = null;
  #refreshing: Promise<boolean> | null = null;
  user: User | null = null;
  onSignedOut: () => void = () => undefined;

  get signedIn(): boolean {
    return this.user !== null;
  }

  get accessToken(): string | null {
    return this.#access;
  }

  /** Restores the session of the last visit, if its refresh token still works. */
  async resume(): Promise<void> {
    if (localStorage.getItem(REFRESH_KEY) && (await this.#refresh())) {
      this.user = await this.get<User>("/v1/me");
    }
  }

  async signIn(email: string, password: string): Promise<void> {
    this.#keep(await this.post<TokenPair>("/v1/auth/login", { email, password }, NO_AUTH));
  }

  async register(email: string, password: string, displayName: string): Promise<void> {
    const body = { email, password, displayName };
    this.#keep(await this.post<TokenPair>("/v1/auth/register", body, NO_AUTH));
  }

  async signOut(): Promise<void> {
    const refreshToken = localStorage.getItem(REFRESH_KEY);
    if (refreshToken) await this.post("/v1/auth/logout", { refreshToken }).catch(() => undefined);
    this.#forget();
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return this.request<T>("POST", path, body, options);
  }

  /** Sends, refreshing the access token once if it expired; problems become ApiProblem. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    { auth = true, headers = {}, keepalive = false }: RequestOptions = {},
  ): Promise<T> {
    const send = () =>
      fetch(path, {
        method,
        keepalive,
        headers: {
          ...headers,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...(auth && this.#access ? { Authorization: `Bearer ${this.#access}` } : {}),
        },
        body: body === undefined ? null : JSON.stringify(body),
      });
    let res = await send();
    if (res.status === 401 && auth && this.#access && (await this.#refresh())) res = await send();
    if (res.status === 204) return undefined as T;
    const data: unknown = await res.json().catch(() => null);
    if (!res.ok) throw toProblem(res.status, data);
    return data as T;
  }

  #refresh(): Promise<boolean> {
    this.#refreshing ??= (async () => {
      const refreshToken = localStorage.getItem(REFRESH_KEY);
      if (!refreshToken) return false;
      try {
        this.#keep(await this.post<TokenPair>("/v1/auth/refresh", { refreshToken }, NO_AUTH));
        return true;
      } catch {
        this.#forget();
        return false;
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  #keep(pair: TokenPair) {
    this.#access = pair.accessToken;
    this.user = pair.user;
    localStorage.setItem(REFRESH_KEY, pair.refreshToken);
  }

  #forget() {
    const was = this.user !== null;
    this.#access = null;
    this.user = null;
    localStorage.removeItem(REFRESH_KEY);
    if (was) this.onSignedOut();
  }
}

function toProblem(status: number, data: unknown): ApiProblem {
  const body = (data && typeof data === "object" ? data : {}) as Record<string, unknown>;
  const detail = typeof body["detail"] === "string" ? body["detail"] : `The server said ${status}.`;
  // The api only sends codes from its catalogue (`API_ERRORS`).
  const code: ProblemCode =
    typeof body["code"] === "string" ? (body["code"] as ApiErrorCode) : `HTTP_${status}`;
  return new ApiProblem(status, code, detail, body);
}

/** What to tell a person about a failure, in words. */
export function describeError(error: unknown): string {
  if (error instanceof ApiProblem) {
    if (error.status === 451) return `Not available where you are: ${error.message}`;
    if (error.status === 402) return `Your plan does not include this: ${error.message}`;
    return error.message;
  }
  if (error instanceof TypeError && /fetch|network/i.test(error.message)) {
    return "The server cannot be reached. Check your connection.";
  }
  return error instanceof Error ? error.message : String(error);
}

export const api = new Api();
