/**
 * The api's contract with its clients (the web app, the e2e tests): the shapes they read,
 * taken from `api-types.gen.ts`, which `npm run api:types` generates from the api's route
 * definitions. Nothing here is written by hand, so a renamed or retyped field fails the
 * typecheck where a client reads it.
 */
import type { components, paths } from "./api-types.gen";

export type { components, paths };

type Schemas = components["schemas"];

/** The JSON body of the success answer (200 or 201) of `method` on `path`. */
export type ResponseOf<
  P extends keyof paths,
  M extends "get" | "post" | "put" | "patch" | "delete",
> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: { content: { "application/json": infer B } } }
    ? B
    : R extends { 201: { content: { "application/json": infer B } } }
      ? B
      : never
  : never;

export type Page<T> = { items: T[]; nextCursor: string | null };
export type Track = Schemas["Track"];
export type Artist = Schemas["Artist"];
export type Album = Schemas["Album"];
export type Playlist = Schemas["Playlist"];
export type PlaylistWithItems = ResponseOf<"/v1/playlists/{id}", "get">;
export type PlaylistItem = PlaylistWithItems["items"][number];
export type Upload = Schemas["Upload"];
export type CreatedUpload = Schemas["CreatedUpload"];
export type User = Schemas["User"];
export type TokenPair = Schemas["TokenPair"];
export type Session = Schemas["Session"];
export type Subscription = ResponseOf<"/v1/me/subscription", "get">;
export type Suggestion = Schemas["Suggestions"]["items"][number];
export type Like = Schemas["Like"];
export type Library = Schemas["Library"];
export type PlaybackGrant = Schemas["PlaybackGrant"];
export type TrackStats = Schemas["TrackStats"];
export type RoyaltyReport = Schemas["RoyaltyReport"];
export type ExcludedStreams = Schemas["ExcludedStreams"];
