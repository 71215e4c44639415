import jwt from "@tsndr/cloudflare-worker-jwt";
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectProblem, register, type Account } from "./helpers";

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

describe("access tokens", () => {
  let account: Account;
  let claims: Record<string, unknown>;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    account = await register();
    claims = jwt.decode(account.accessToken).payload as Record<string, unknown>;
  });

  const sign = (
    payload: Record<string, unknown>,
    secret: string,
    kid: string,
    algorithm = "HS256",
  ) => jwt.sign(payload, secret, { algorithm, header: { kid, typ: "JWT" } });

  const expect401 = async (token: string) =>
    expectProblem(await call("GET", "/v1/me", { token }), 401, "UNAUTHENTICATED");

  it("carry a kid header and HS256", () => {
    expect(jwt.decode(account.accessToken).header).toMatchObject({ alg: "HS256", kid: "k1" });
  });

  it("signed by an older key still in the ring are accepted (rotation)", async () => {
    const token = await sign(claims, env.TEST_JWT_KEYS["k0"] ?? "", "k0");
    const res = await call("GET", "/v1/me", { token });
    expect(res.status).toBe(200);
  });

  it("with a tampered payload are refused", async () => {
    const [header, , signature] = account.accessToken.split(".");
    const forged = `${header}.${b64url({ ...claims, role: "admin" })}.${signature}`;
    await expect401(forged);
  });

  it("that expired are refused", async () => {
    await expect401(
      await sign(
        { ...claims, iat: now() - 7200, exp: now() - 3600 },
        env.TEST_JWT_KEYS["k1"] ?? "",
        "k1",
      ),
    );
  });

  it("with alg none are refused", async () => {
    const unsigned = `${b64url({ alg: "none", typ: "JWT", kid: "k1" })}.${b64url(claims)}.`;
    await expect401(unsigned);
  });

  it("signed with a key we do not hold are refused", async () => {
    await expect401(await sign(claims, "an-attacker-key-0123456789abcdef0123456789", "k1"));
  });

  it("naming an unknown kid are refused", async () => {
    await expect401(await sign(claims, env.TEST_JWT_KEYS["k1"] ?? "", "k9"));
  });

  it.each(["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"])(
    "naming the inherited key id %s, signed with that member's text, are refused",
    async (kid) => {
      // A plain-object key ring would have handed this text to the HMAC as the key.
      await expect401(await sign(claims, String(Reflect.get({}, kid)), kid));
    },
  );

  it("using another algorithm with our key are refused", async () => {
    await expect401(await sign(claims, env.TEST_JWT_KEYS["k1"] ?? "", "k1", "HS512"));
  });

  it("that are not JWTs at all are refused, as is a malformed header", async () => {
    await expect401("garbage");
    const res = await call("GET", "/v1/me", { headers: { Authorization: "Basic dXNlcjpwYXNz" } });
    await expectProblem(res, 401, "UNAUTHENTICATED");
  });

  it("for a valid signature but a session that does not exist are refused", async () => {
    await expect401(
      await sign({ ...claims, sid: "ses_missing" }, env.TEST_JWT_KEYS["k1"] ?? "", "k1"),
    );
  });

  it("grant the role stored in D1, not the role claimed in the token", async () => {
    const claimsAdmin = await sign(
      { ...claims, role: "admin" },
      env.TEST_JWT_KEYS["k1"] ?? "",
      "k1",
    );
    const res = await call("POST", "/v1/artists", { token: claimsAdmin, body: { name: "X" } });
    await expectProblem(res, 403, "FORBIDDEN");
  });
});
