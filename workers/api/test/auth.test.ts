import { describe, expect, it } from "vitest";
import { call, callJson, expectProblem, register } from "./helpers";

describe("register", () => {
  it("creates a listener and returns a usable token pair", async () => {
    const account = await register();
    expect(account.role).toBe("listener");
    const me = await callJson("GET", "/v1/me", 200, { token: account.accessToken });
    expect(me).toMatchObject({ id: account.id, email: account.email, role: "listener" });
  });

  it("refuses a second account with the same email, compared case-insensitively", async () => {
    await register("dupe@example.com");
    const res = await call("POST", "/v1/auth/register", {
      body: { email: "  DUPE@Example.com ", password: "another long password", displayName: "X" },
    });
    await expectProblem(res, 409, "EMAIL_TAKEN");
  });
});
