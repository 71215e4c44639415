import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_TYPES_FILE, apiTypes } from "../../scripts/api-types.mjs";

describe("the api's typed contract", () => {
  it("is generated from the current route definitions (run npm run api:types if not)", async () => {
    const generated = await apiTypes();
    expect(generated).toContain('"/v1/tracks/{id}"');
    expect(readFileSync(API_TYPES_FILE, "utf8") === generated).toBe(true);
  });
});
