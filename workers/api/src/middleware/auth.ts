import { createMiddleware } from "hono/factory";
import type { AppEnv, Viewer } from "../app-env";
import { DomainError } from "@edge-music/core/api-errors";
import type { Role } from "@edge-music/core/db/schema";

const unauthenticated = (detail: string) => new DomainError("UNAUTHENTICATED", detail);

/**
 * Reads `Authorization: Bearer <jwt>` when present. A token that is present but not valid
 * is 401 even on public routes, so clients learn to refresh instead of silently seeing less.
 */
export const optionalAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header);
    if (!match?.[1]) throw unauthenticated("The Authorization header must be `Bearer <token>`.");
    const viewer = await c.get("services").auth.authenticate(match[1]);
    if (!viewer) throw unauthenticated("The access token is invalid, expired or revoked.");
    c.set("viewer", viewer);
  }
  await next();
});

/** The signed-in caller, or 401. */
export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated("Sign in to do this.");
  return viewer;
}

/** The signed-in caller holding one of `roles`, else 401/403. */
export function requireRole(viewer: Viewer | null, ...roles: Role[]): Viewer {
  const v = requireViewer(viewer);
  if (!roles.includes(v.role)) {
    throw new DomainError("FORBIDDEN", `This needs one of these roles: ${roles.join(", ")}.`);
  }
  return v;
}
