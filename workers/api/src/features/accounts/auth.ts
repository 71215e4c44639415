import { and, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { DrizzleD1Database } from "drizzle-orm/d1";
import { NOW_MS_SQL, refreshTokens, sessions, users, type Role } from "@edge-music/core/db/schema";
import type { Viewer } from "../../app-env";
import { signAccessToken, verifyAccessToken } from "../../lib/access-token";
import { normalizeEmail, type Config } from "../../lib/config";
import { newId, randomBytes, sha256Hex, toBase64Url } from "../../lib/crypto";
import { decodeCursor, keyset, toPage, type Page, type PageQuery } from "../../lib/pagination";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../../lib/password";
import { DomainError } from "@edge-music/core/api-errors";
import { notFound } from "../../lib/problem";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

export type PublicUser = {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  plan: string;
  createdAt: string;
};

export type TokenPair = {
  user: PublicUser;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
};

export type DeviceInfo = { deviceName?: string | undefined; userAgent: string };

export type SessionView = {
  id: string;
  name: string;
  userAgent: string;
  createdAt: string;
  lastUsedAt: string;
  current: boolean;
};

const invalidCredentials = () =>
  new DomainError("INVALID_CREDENTIALS", "The email or password is not right.");
const invalidRefresh = () =>
  new DomainError("INVALID_REFRESH_TOKEN", "The refresh token is not valid; sign in again.");

type UserRow = typeof users.$inferSelect;

export function toPublicUser(row: UserRow): PublicUser {
  return {
    id: row.id,
    email: row.email,
    displayName: row.displayName,
    role: row.role,
    plan: row.plan,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

/** Accounts, device sessions and tokens. */
export class AuthService {
  constructor(
    private readonly db: DrizzleD1Database,
    private readonly config: Config,
  ) {}

  async register(
    input: { email: string; password: string; displayName: string },
    device: DeviceInfo,
  ): Promise<TokenPair> {
    const email = normalizeEmail(input.email);
    // Everyone starts as a listener: admins are made by the operator (`npm run admin`).
    const role: Role = "listener";
    const id = newId("usr");
    const passwordHash = await hashPassword(input.password, this.config.passwordIterations);
    const inserted = await this.db
      .insert(users)
      .values({ id, email, displayName: input.displayName.trim(), passwordHash, role })
      .onConflictDoNothing({ target: users.email })
      .returning();
    const user = inserted[0];
    if (!user) {
      throw new DomainError("EMAIL_TAKEN", "An account with this email already exists.");
    }
    return this.openSession(user, device);
  }

  async login(input: { email: string; password: string }, device: DeviceInfo): Promise<TokenPair> {
    const email = normalizeEmail(input.email);
    const user = await this.db.select().from(users).where(eq(users.email, email)).get();
    // Verify against a dummy hash for unknown emails so timing does not reveal accounts.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok) throw invalidCredentials();
    return this.openSession(user, device);
  }

  /**
   * Rotates a refresh token. A token already used once means it leaked (or a client
   * raced itself): the whole device session is revoked.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const tokenHash = await sha256Hex(refreshToken);
    const now = Date.now();
    const row = await this.db
      .select({ token: refreshTokens, session: sessions, user: users })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(refreshTokens.tokenHash, tokenHash))
      .get();
    if (!row || row.session.revokedAt !== null || row.session.expiresAt <= now) {
      throw invalidRefresh();
    }
    if (row.token.expiresAt <= now) throw invalidRefresh();
    // Claim the token; only one caller can flip used_at from null.
    const claimed = await this.db
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.tokenHash, tokenHash), isNull(refreshTokens.usedAt)))
      .returning({ tokenHash: refreshTokens.tokenHash });
    if (claimed.length === 0) {
      await this.revokeSessionRow(row.session.id, "refresh_token_reuse");
      throw new DomainError(
        "REFRESH_TOKEN_REUSED",
        "This refresh token was already used; the session has been signed out for safety.",
      );
    }
    const next = await this.issueRefreshToken(row.session.id);
    await this.db
      .update(sessions)
      .set({ lastUsedAt: now, expiresAt: now + this.config.refreshTokenTtlSeconds * 1000 })
      .where(eq(sessions.id, row.session.id));
    return this.tokenPair(row.user, row.session.id, next);
  }

  /** Signs out the caller's session holding this refresh token (an unknown one: the calling session). */
  async logout(refreshToken: string, viewer: Viewer): Promise<void> {
    const tokenHash = await sha256Hex(refreshToken);
    const row = await this.db
      .select({ sessionId: refreshTokens.sessionId })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .where(and(eq(refreshTokens.tokenHash, tokenHash), eq(sessions.userId, viewer.id)))
      .get();
    await this.revokeSessionRow(row?.sessionId ?? viewer.sessionId, "logout");
  }

  /** Resolves a bearer token to a live account and session, or null. */
  async authenticate(accessToken: string): Promise<Viewer | null> {
    const claims = await verifyAccessToken(accessToken, this.config.jwtKeys);
    if (!claims) return null;
    // Every authenticated request runs this: read only what a viewer holds (no hash).
    const row = await this.db
      .select({
        id: users.id,
        email: users.email,
        displayName: users.displayName,
        role: users.role,
        plan: users.plan,
        sessionId: sessions.id,
        revokedAt: sessions.revokedAt,
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, claims.sessionId), eq(sessions.userId, claims.userId)))
      .get();
    if (!row || row.revokedAt !== null) return null;
    const { revokedAt: _revoked, ...viewer } = row;
    return viewer;
  }

  async me(viewer: Viewer): Promise<PublicUser> {
    const user = await this.db.select().from(users).where(eq(users.id, viewer.id)).get();
    if (!user) throw notFound("The account");
    return toPublicUser(user);
  }

  async listSessions(viewer: Viewer, page: PageQuery): Promise<Page<SessionView>> {
    const { where, orderBy } = keyset(
      sessions.createdAt,
      "desc",
      sessions.id,
      decodeCursor(page.cursor),
    );
    const rows = await this.db
      .select()
      .from(sessions)
      .where(
        and(
          eq(sessions.userId, viewer.id),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, Date.now()),
          where,
        ),
      )
      .orderBy(...orderBy)
      .limit(page.limit + 1);
    return toPage(
      rows,
      page.limit,
      (s) => [s.createdAt, s.id],
      (s) => ({
        id: s.id,
        name: s.name,
        userAgent: s.userAgent,
        createdAt: new Date(s.createdAt).toISOString(),
        lastUsedAt: new Date(s.lastUsedAt).toISOString(),
        current: s.id === viewer.sessionId,
      }),
    );
  }

  /** Revokes one of the caller's own sessions; another user's session is 404. */
  async revokeSession(viewer: Viewer, sessionId: string): Promise<void> {
    const revoked = await this.db
      .update(sessions)
      .set({ revokedAt: Date.now(), revokedReason: "revoked_by_user" })
      .where(
        and(eq(sessions.id, sessionId), eq(sessions.userId, viewer.id), isNull(sessions.revokedAt)),
      )
      .returning({ id: sessions.id });
    if (revoked.length === 0) throw notFound("The session");
  }

  /** Deletes sessions that ended before `olderThanMs` ago, and their tokens; returns how many. */
  async purgeEndedSessions(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const ended = or(lt(sessions.expiresAt, cutoff), lt(sessions.revokedAt, cutoff));
    const ids = this.db.select({ id: sessions.id }).from(sessions).where(ended);
    // D1 does not enforce foreign keys' cascades unless asked: delete the tokens explicitly.
    const [, deleted] = await this.db.batch([
      this.db.delete(refreshTokens).where(inArray(refreshTokens.sessionId, ids)),
      this.db.delete(sessions).where(ended).returning({ id: sessions.id }),
    ]);
    return deleted.length;
  }

  private async openSession(user: UserRow, device: DeviceInfo): Promise<TokenPair> {
    const sessionId = newId("ses");
    const now = Date.now();
    await this.db.insert(sessions).values({
      id: sessionId,
      userId: user.id,
      name: device.deviceName?.trim() || deviceNameFrom(device.userAgent),
      userAgent: device.userAgent.slice(0, 512),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + this.config.refreshTokenTtlSeconds * 1000,
    });
    const refreshToken = await this.issueRefreshToken(sessionId);
    return this.tokenPair(user, sessionId, refreshToken);
  }

  private async issueRefreshToken(sessionId: string): Promise<string> {
    const token = `rt_${toBase64Url(randomBytes(32))}`;
    await this.db.insert(refreshTokens).values({
      tokenHash: await sha256Hex(token),
      sessionId,
      expiresAt: Date.now() + this.config.refreshTokenTtlSeconds * 1000,
    });
    return token;
  }

  private async tokenPair(user: UserRow, sessionId: string, refreshToken: string) {
    const accessToken = await signAccessToken(
      { userId: user.id, sessionId, role: user.role },
      this.config.jwtKeys,
      this.config.jwtActiveKid,
      this.config.accessTokenTtlSeconds,
    );
    return {
      user: toPublicUser(user),
      accessToken,
      refreshToken,
      expiresIn: this.config.accessTokenTtlSeconds,
    };
  }

  private async revokeSessionRow(sessionId: string, reason: string): Promise<void> {
    await this.db
      .update(sessions)
      .set({ revokedAt: Date.now(), revokedReason: reason })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  }

  /** Admin: changes an account's role. */
  async setRole(userId: string, role: Role): Promise<PublicUser> {
    const updated = await this.db
      .update(users)
      .set({ role, updatedAt: sql.raw(NOW_MS_SQL) })
      .where(eq(users.id, userId))
      .returning();
    const user = updated[0];
    if (!user) throw notFound("The user");
    return toPublicUser(user);
  }
}

/** "Firefox on Linux"-style label when the client names no device. */
export function deviceNameFrom(userAgent: string): string {
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrome\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : /curl\//.test(userAgent)
            ? "curl"
            : "Unknown client";
  const os = /Android/.test(userAgent)
    ? "Android"
    : /iPhone|iPad/.test(userAgent)
      ? "iOS"
      : /Mac OS X/.test(userAgent)
        ? "macOS"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /Linux/.test(userAgent)
            ? "Linux"
            : "";
  return os ? `${browser} on ${os}` : browser;
}

/** Sessions are exported; the account row goes last in an erasure (it cascades). */
export const AUTH_PERSONAL_DATA: PersonalData = {
  export: [{ name: "sessions", sql: rowsOf("sessions", "user_id") }],
  erase: ["DELETE FROM users WHERE id = ?1"],
};
