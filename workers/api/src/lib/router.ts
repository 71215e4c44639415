import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { ApiError } from "./problem";

type Issue = { path: PropertyKey[]; message: string };

/** Turns zod issues into a 400 problem naming each field and what is wrong with it. */
export function validationError(issues: readonly Issue[]): ApiError {
  const errors = issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join("; ");
  return new ApiError(400, "VALIDATION_FAILED", detail, { errors });
}

/** A router whose request validation failures all become problem+json. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });
}
