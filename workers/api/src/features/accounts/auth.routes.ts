import { createRoute, z } from "@hono/zod-openapi";
import { normalizeEmail } from "../../lib/config";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { enforceRateLimits } from "../../middleware/rate-limit";
import { checkPasswordRules } from "./password-rules";
import { BEARER, TokenPairSchema, json, jsonBody, problems } from "../../http/schemas";

const Credentials = z.object({
  email: z.string().trim().max(254).pipe(z.email()).openapi({ example: "listener@demo.local" }),
  password: z.string().min(1).max(1024),
  deviceName: z.string().trim().min(1).max(100).optional().openapi({
    description: "A label for the device session, e.g. `Kitchen speaker`.",
  }),
});

const RegisterBody = Credentials.extend({
  displayName: z.string().trim().min(1).max(100),
}).openapi("RegisterRequest");

const RefreshBody = z
  .object({ refreshToken: z.string().min(1).max(512) })
  .openapi("RefreshRequest");

const register = createRoute({
  method: "post",
  path: "/register",
  tags: ["auth"],
  summary: "Create an account and sign in",
  request: { body: jsonBody(RegisterBody) },
  responses: { 201: json(TokenPairSchema, "Account created"), ...problems(400, 409, 422, 429) },
});

const login = createRoute({
  method: "post",
  path: "/login",
  tags: ["auth"],
  summary: "Sign in with email and password; opens a device session",
  request: { body: jsonBody(Credentials.openapi("LoginRequest")) },
  responses: { 200: json(TokenPairSchema, "Signed in"), ...problems(400, 401, 429) },
});

const refresh = createRoute({
  method: "post",
  path: "/refresh",
  tags: ["auth"],
  summary: "Rotate a refresh token; reusing an old one signs the session out",
  request: { body: jsonBody(RefreshBody) },
  responses: { 200: json(TokenPairSchema, "New token pair"), ...problems(400, 401) },
});

const logout = createRoute({
  method: "post",
  path: "/logout",
  tags: ["auth"],
  summary: "Sign out the device session of this refresh token",
  security: BEARER,
  request: { body: jsonBody(RefreshBody) },
  responses: { 204: { description: "Signed out" }, ...problems(400, 401) },
});

/** Rate limit keys: the client address and the account, so neither spraying nor guessing pays. */
function authLimits(env: Env, ip: string, email: string) {
  return [
    { limiter: env.AUTH_IP_LIMITER, key: `ip:${ip}` },
    { limiter: env.AUTH_ACCOUNT_LIMITER, key: `account:${normalizeEmail(email)}` },
  ];
}

const clientIp = (req: { header: (name: string) => string | undefined }) =>
  req.header("CF-Connecting-IP") ?? "unknown";

export const authRoutes = createRouter()
  .openapi(register, async (c) => {
    const body = c.req.valid("json");
    await enforceRateLimits(authLimits(c.env, clientIp(c.req), body.email));
    checkPasswordRules(body.password, body.email);
    const pair = await c.get("services").auth.register(body, {
      deviceName: body.deviceName,
      userAgent: c.req.header("User-Agent") ?? "",
    });
    return c.json(pair, 201);
  })
  .openapi(login, async (c) => {
    const body = c.req.valid("json");
    await enforceRateLimits(authLimits(c.env, clientIp(c.req), body.email));
    const pair = await c.get("services").auth.login(body, {
      deviceName: body.deviceName,
      userAgent: c.req.header("User-Agent") ?? "",
    });
    return c.json(pair, 200);
  })
  .openapi(refresh, async (c) => {
    const pair = await c.get("services").auth.refresh(c.req.valid("json").refreshToken);
    return c.json(pair, 200);
  })
  .openapi(logout, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await c.get("services").auth.logout(c.req.valid("json").refreshToken, viewer);
    return c.body(null, 204);
  });
