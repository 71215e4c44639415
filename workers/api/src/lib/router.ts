import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { DomainError } from "@edge-music/core/api-errors";

type Issue = { path: PropertyKey[]; message: string };

/** Turns zod issues into a 400 problem naming each field and what is wrong with it. */
export function validationError(issues: readonly Issue[]): DomainError {
  const errors = issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return new DomainError("VALIDATION_FAILED", detail, { extras: { errors } });
}

/** A router whose request validation failures all become problem+json. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
}
