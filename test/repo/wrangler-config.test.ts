import path from "node:path";
import { fileURLToPath } from "node:url";
import { experimental_readRawConfig } from "wrangler";
import { describe, expect, it } from "vitest";
import { SECRET_NAMES, SETTING_NAMES } from "@edge-music/api/config";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const { rawConfig } = experimental_readRawConfig({ config: path.join(ROOT, "wrangler.toml") });
type Section = Record<string, unknown>;
const local = rawConfig as unknown as Section;
const production = (rawConfig.env?.["production"] ?? {}) as unknown as Section;

/** What production has and local development cannot: the transcoder as a container. */
const PRODUCTION_ONLY_DURABLE_OBJECTS = new Set(["TRANSCODER"]);
const PRODUCTION_ONLY_CLASSES = new Set(["TranscoderContainer"]);
/** Vars whose value differs on purpose: where the api finds the transcoder. */
const DIFFERENT_VALUES = new Map([
  ["TRANSCODER_URL", { local: "http://", production: "container" }],
]);

const vars = (section: Section) => (section["vars"] ?? {}) as Record<string, string>;

describe("wrangler.toml against the api's config schema", () => {
  it("declares every setting that is not a secret as a var, and no secret", () => {
    const declared = Object.keys(vars(local)).sort();
    const expected = SETTING_NAMES.filter((n) => !SECRET_NAMES.includes(n)).sort();
    expect(declared).toEqual(expected);
    for (const secret of SECRET_NAMES) expect(SETTING_NAMES).toContain(secret);
  });

  it("gives production the same vars with the same values, but where the transcoder is", () => {
    expect(Object.keys(vars(production)).sort()).toEqual(Object.keys(vars(local)).sort());
    for (const [name, value] of Object.entries(vars(local))) {
      const differs = DIFFERENT_VALUES.get(name);
      if (differs) {
        expect(value.startsWith(differs.local)).toBe(true);
        expect(vars(production)[name]).toBe(differs.production);
      } else {
        expect({ name, value: vars(production)[name] }).toEqual({ name, value });
      }
    }
  });

  it("binds the same storage, queues, limits and datasets in production, binding by binding", () => {
    // Wrangler does not inherit these into an environment: production must state each.
    for (const key of [
      "d1_databases",
      "r2_buckets",
      "ratelimits",
      "queues",
      "analytics_engine_datasets",
    ]) {
      expect(local[key]).toBeDefined();
      expect({ key, value: production[key] }).toEqual({ key, value: local[key] });
    }
    // These are inherited; where production states one anyway, it must be the same.
    for (const key of [
      "triggers",
      "assets",
      "observability",
      "main",
      "name",
      "compatibility_date",
    ]) {
      if (key in production)
        expect({ key, value: production[key] }).toEqual({ key, value: local[key] });
    }
  });

  it("has the same Durable Objects and migrations in production, plus only the container", () => {
    type Binding = { name: string; class_name: string };
    type Migration = { tag: string; new_sqlite_classes?: string[] };
    const bindings = (s: Section) =>
      ((s["durable_objects"] as { bindings?: Binding[] } | undefined)?.bindings ?? []).map(
        (b) => `${b.name}=${b.class_name}`,
      );
    expect(
      bindings(production).filter(
        (b) => !PRODUCTION_ONLY_DURABLE_OBJECTS.has(b.split("=")[0] ?? ""),
      ),
    ).toEqual(bindings(local));
    const migrations = (s: Section, skip: Set<string>) =>
      ((s["migrations"] ?? []) as Migration[]).map((m) => ({
        tag: m.tag,
        classes: (m.new_sqlite_classes ?? []).filter((c) => !skip.has(c)),
      }));
    expect(migrations(production, PRODUCTION_ONLY_CLASSES)).toEqual(migrations(local, new Set()));
    const containers = (production["containers"] ?? []) as { class_name: string }[];
    expect(containers.map((c) => c.class_name)).toEqual([...PRODUCTION_ONLY_CLASSES]);
  });
});
