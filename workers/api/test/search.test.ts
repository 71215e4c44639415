import { env } from "cloudflare:test";
import { createDb } from "../src/lib/db";
import { GenreService } from "../src/features/catalog/genres";
import { TrackService } from "../src/features/catalog/tracks";
import { beforeAll, describe, expect, it } from "vitest";
import { createAlbum, createArtist, createTrack } from "./catalog-fixtures";
import { accountWithRole, call, callJson, expectProblem, type Account } from "./helpers";

const db = createDb(env.DB);
const trackService = new TrackService(db, new GenreService(db));

type Result = {
  items: { id: string; title?: string; name?: string }[];
  nextCursor: string | null;
  match: string;
};
type Suggestions = {
  items: { type: string; id: string; text: string; subtitle: string }[];
  match: string;
};

const search = (query: string, token?: string) =>
  callJson<Result>("GET", `/v1/search?${query}`, 200, token ? { token } : {});
const suggest = (q: string, token?: string) =>
  callJson<Suggestions>(
    "GET",
    `/v1/search/suggest?q=${encodeURIComponent(q)}`,
    200,
    token ? { token } : {},
  );

describe("search", () => {
  let owner: Account;
  let other: Account;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    owner = await accountWithRole("artist");
    other = await accountWithRole("artist");
    const beyonce = await createArtist(owner, "Beyoncé");
    ids["beyonce"] = beyonce.id;
    const album = await createAlbum(owner, beyonce.id, { title: "Dangerously in Love" });
    ids["album"] = album.id;
    ids["crazy"] = (
      await createTrack(owner, beyonce.id, { title: "Crazy in Love", albumId: album.id })
    ).id;
    ids["halo"] = (await createTrack(owner, beyonce.id, { title: "Halo" })).id;
    ids["secret"] = (
      await createTrack(owner, beyonce.id, { title: "Halo Demo (secret)", visibility: "private" })
    ).id;
    ids["unlisted"] = (
      await createTrack(owner, beyonce.id, { title: "Halo Unlisted Mix", visibility: "unlisted" })
    ).id;
    const sigur = await createArtist(other, "Sigur Rós");
    ids["sigur"] = sigur.id;
    ids["hoppipolla"] = (await createTrack(other, sigur.id, { title: "Hoppípolla" })).id;
    const motorhead = await createArtist(other, "Motörhead");
    ids["ace"] = (await createTrack(other, motorhead.id, { title: "Ace of Spades" })).id;
    // Two equally relevant "Love" titles: the more streamed one must come first.
    const a = await createArtist(other, "Nobody Famous");
    ids["loveQuiet"] = (await createTrack(other, a.id, { title: "Love" })).id;
    ids["loveHit"] = (await createTrack(other, a.id, { title: "Love" })).id;
    await trackService.setPopularity(ids["loveHit"] ?? "", 9000);
  });

  it("folds diacritics both ways", async () => {
    expect((await search("q=beyonce&type=artist")).items.map((i) => i.id)).toEqual([
      ids["beyonce"],
    ]);
    expect((await search("q=BEYONCÉ&type=artist")).items.map((i) => i.id)).toEqual([
      ids["beyonce"],
    ]);
    expect((await search("q=hoppipolla")).items.map((i) => i.id)).toEqual([ids["hoppipolla"]]);
    expect((await search("q=motorhead ace")).items.map((i) => i.id)).toEqual([ids["ace"]]);
  });

  it("matches the last word as a prefix and the rest as whole words", async () => {
    const result = await search("q=beyonce%20hal");
    expect(result.match).toBe("exact");
    expect(result.items.map((i) => i.id)).toEqual([ids["halo"]]);
    expect((await search("q=dangerously%20in%20lo&type=album")).items.map((i) => i.id)).toEqual([
      ids["album"],
    ]);
  });

  it("finds tracks by artist and album names too", async () => {
    const result = await search("q=dangerously");
    expect(result.items.map((i) => i.id)).toEqual([ids["crazy"]]);
  });

  it("falls back to trigram matching when nothing matches as typed", async () => {
    const typo = await search("q=beyonse&type=artist");
    expect(typo.match).toBe("fuzzy");
    expect(typo.items[0]?.id).toBe(ids["beyonce"]);
    const swapped = await search("q=hopipola");
    expect(swapped.match).toBe("fuzzy");
    expect(swapped.items[0]?.id).toBe(ids["hoppipolla"]);
    const nothing = await search("q=zzqqxx");
    expect(nothing.items).toEqual([]);
  });

  it("ranks by relevance, then popularity", async () => {
    const result = await search("q=love");
    const order = result.items.map((i) => i.id);
    expect(order.indexOf(ids["loveHit"] ?? "")).toBeLessThan(order.indexOf(ids["loveQuiet"] ?? ""));
    // A title that is only "Love" is more relevant than "Crazy in Love", however popular.
    await trackService.setPopularity(ids["crazy"] ?? "", 99999);
    const again = (await search("q=love")).items.map((i) => i.id);
    expect(again.indexOf(ids["loveQuiet"] ?? "")).toBeLessThan(again.indexOf(ids["crazy"] ?? ""));
  });

  it.each([
    '"',
    'halo"',
    "halo*",
    "(halo",
    "halo NEAR love",
    "NEAR(halo love)",
    "-halo",
    "name:halo",
    "halo OR love",
    "halo AND",
    "^halo",
    "{halo}",
    "'; DROP TABLE tracks; --",
    "\\",
    "💿",
  ])("treats %j as plain text, never as query syntax", async (q) => {
    const res = await call("GET", `/v1/search?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Result;
    // "name:halo" must not restrict to a column and "OR" must not widen: any hit holds the words.
    for (const item of body.items)
      expect(item.title?.toLowerCase()).toMatch(/halo|love|near|name|or|and/);
    const s = await call("GET", `/v1/search/suggest?q=${encodeURIComponent(q)}`);
    expect(s.status).toBe(200);
  });

  it("does not let OR widen a query", async () => {
    // As text, "halo or love" needs a document holding "halo", "or" and "love*": none does,
    // so only the typo fallback answers. As an operator it would have matched exactly.
    const result = await search(`q=${encodeURIComponent("halo OR love")}`);
    expect(result.match).toBe("fuzzy");
  });

  it("never shows other people's private or unlisted tracks, but shows owners their own", async () => {
    const anon = (await search("q=halo")).items.map((i) => i.id);
    expect(anon).toContain(ids["halo"]);
    expect(anon).not.toContain(ids["secret"]);
    expect(anon).not.toContain(ids["unlisted"]);
    const stranger = (await search("q=halo", other.accessToken)).items.map((i) => i.id);
    expect(stranger).not.toContain(ids["secret"]);
    const mine = (await search("q=halo", owner.accessToken)).items.map((i) => i.id);
    expect(mine).toEqual(expect.arrayContaining([ids["secret"], ids["unlisted"]]));
    const fuzzy = (await search("q=secrett")).items.map((i) => i.id);
    expect(fuzzy).not.toContain(ids["secret"]);
    for (const q of ["halo d", "halo", "secret", "unlisted"]) {
      const hints = (await suggest(q, other.accessToken)).items.map((i) => i.id);
      expect(hints).not.toContain(ids["secret"]);
      expect(hints).not.toContain(ids["unlisted"]);
    }
  });

  it("paginates with a cursor", async () => {
    const artist = await createArtist(owner, "Pager");
    for (let i = 0; i < 5; i++)
      await createTrack(owner, artist.id, { title: `Pagination song ${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Result = await search(`q=pagination&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it("follows renames", async () => {
    const artist = await createArtist(owner, "Before Rename");
    const track = await createTrack(owner, artist.id, { title: "Renamable" });
    await callJson("PATCH", `/v1/artists/${artist.id}`, 200, {
      token: owner.accessToken,
      body: { name: "Zyxwv" },
    });
    expect((await search("q=zyxwv renam")).items.map((i) => i.id)).toEqual([track.id]);
    expect((await search("q=before")).items).toEqual([]);
    await callJson("PATCH", `/v1/tracks/${track.id}`, 200, {
      token: owner.accessToken,
      body: { title: "Qwertz" },
    });
    expect((await search("q=qwertz")).items.map((i) => i.id)).toEqual([track.id]);
  });

  it("refuses an empty or oversized query and a bad type", async () => {
    await expectProblem(await call("GET", "/v1/search?q="), 400, "VALIDATION_FAILED");
    await expectProblem(
      await call("GET", `/v1/search?q=${"a".repeat(201)}`),
      400,
      "VALIDATION_FAILED",
    );
    await expectProblem(
      await call("GET", "/v1/search?q=halo&type=playlist"),
      400,
      "VALIDATION_FAILED",
    );
  });
});

describe("suggest", () => {
  let owner: Account;
  beforeAll(async () => {
    owner = await accountWithRole("artist");
    const artist = await createArtist(owner, "Daft Punk");
    await createAlbum(owner, artist.id, { title: "Discovery" });
    await createTrack(owner, artist.id, { title: "Digital Love" });
  });

  it("completes a partial word across tracks, artists and albums", async () => {
    const result = await suggest("d");
    expect(result.items.length).toBeGreaterThan(0);
    const types = new Set((await suggest("dig")).items.map((i) => i.type));
    expect(types.has("track")).toBe(true);
    const daft = await suggest("daft p");
    expect(daft.items[0]).toMatchObject({ type: "artist", text: "Daft Punk" });
    const disco = await suggest("disc");
    expect(disco.items.map((i) => i.text)).toContain("Discovery");
    expect(disco.items.find((i) => i.text === "Discovery")?.subtitle).toBe("Daft Punk");
  });

  it("ranks names that start with the prefix first, then by popularity", async () => {
    const artist = await createArtist(owner, "Rankers");
    const inner = await createTrack(owner, artist.id, { title: "Deep Qualm" });
    const quiet = await createTrack(owner, artist.id, { title: "Qualm Quiet" });
    const loud = await createTrack(owner, artist.id, { title: "Qualm Loud" });
    await trackService.setPopularity(loud.id, 50);
    const ids = (await suggest("qual")).items.map((i) => i.id);
    expect(ids).toEqual([loud.id, quiet.id, inner.id]);
  });

  it("tolerates a typo when nothing matches", async () => {
    const result = await suggest("daftt punk");
    expect(result.match).toBe("fuzzy");
    expect(result.items[0]?.text).toBe("Daft Punk");
  });

  it("returns at most eight suggestions", async () => {
    const artist = await createArtist(owner, "Many");
    for (let i = 0; i < 10; i++) await createTrack(owner, artist.id, { title: `Manyfold ${i}` });
    expect((await suggest("manyf")).items).toHaveLength(8);
  });
});
