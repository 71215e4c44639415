import {
  SELF,
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from "cloudflare:test";
import { expect } from "vitest";
import worker from "../src/index";

export type Json = Record<string, unknown>;
export type Account = {
  id: string;
  email: string;
  role: string;
  accessToken: string;
  refreshToken: string;
};

let ipCounter = 0;
/** A fresh client address per call, so the auth rate limits only bite where a test wants. */
export const freshIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;

export async function call(
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.token) headers["Authorization"] = `Bearer ${options.token}`;
  return SELF.fetch(`https://api.test${path}`, {
    method,
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
  });
}

/** Calls and parses JSON, asserting the status first (the body is shown when it differs). */
export async function callJson<T = Json>(
  method: string,
  path: string,
  status: number,
  options: Parameters<typeof call>[2] = {},
): Promise<T> {
  const res = await call(method, path, options);
  const text = await res.text();
  expect(res.status, `${method} ${path} → ${text}`).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

/** Asserts a problem+json refusal and returns its body. */
export async function expectProblem(res: Response, status: number, code?: string): Promise<Json> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  const body = JSON.parse(text) as Json;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  expect(body["requestId"]).toEqual(expect.any(String));
  if (code) expect(body["code"]).toBe(code);
  return body;
}

let userCounter = 0;

export async function register(
  email?: string,
  password = "correct horse battery",
): Promise<Account> {
  const address = email ?? `user${Date.now()}-${userCounter++}@example.com`;
  const body = await callJson<{ user: Json; accessToken: string; refreshToken: string }>(
    "POST",
    "/v1/auth/register",
    201,
    {
      body: { email: address, password, displayName: "Test User" },
      headers: { "CF-Connecting-IP": freshIp() },
    },
  );
  return {
    id: String(body.user["id"]),
    email: String(body.user["email"]),
    role: String(body.user["role"]),
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
  };
}

/**
 * Makes an account an admin as the operator's `npm run admin -- grant` does: one UPDATE in
 * D1 (registering never makes an admin). Roles are read on every request, so it applies at once.
 */
export async function grantAdmin(account: Account): Promise<Account> {
  await env.DB.prepare("UPDATE users SET role = 'admin' WHERE id = ?").bind(account.id).run();
  return { ...account, role: "admin" };
}

let admin: Account | undefined;
/** The admin account of this test file. */
export async function adminAccount(): Promise<Account> {
  admin ??= await grantAdmin(await register("admin@test.local"));
  return admin;
}

/** A new account promoted to `role` by the admin. */
export async function accountWithRole(role: "listener" | "artist" | "admin"): Promise<Account> {
  const account = await register();
  if (role === "listener") return account;
  const boss = await adminAccount();
  await callJson("PUT", `/v1/users/${account.id}/role`, 200, {
    token: boss.accessToken,
    body: { role },
  });
  return { ...account, role };
}

/** Runs the worker's cron `cron` and waits for everything it started. */
export async function runCron(cron: string, bindings: Env = env): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron }), bindings, ctx);
  await waitOnExecutionContext(ctx);
}
