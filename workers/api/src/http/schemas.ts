import { z } from "@hono/zod-openapi";
import { ROLES, TRACK_STATUSES, VISIBILITIES } from "@edge-music/core/db/schema";

/** Response and shared request schemas: the OpenAPI document is generated from these. */

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: "VALIDATION_FAILED" }),
    requestId: z.string(),
  })
  .openapi("Problem");

export const IdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, example: "trk_4f1c2a9b8e7d6c5b4a392817" }),
});

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    plan: z.string(),
    createdAt: z.string(),
  })
  .openapi("User");

export const TokenPairSchema = z
  .object({
    user: UserSchema,
    accessToken: z.string(),
    refreshToken: z.string(),
    expiresIn: z.number().int().openapi({ description: "Access token lifetime in seconds." }),
  })
  .openapi("TokenPair");

export const SessionSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    userAgent: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string(),
    current: z.boolean(),
  })
  .openapi("Session");

const Ref = z.object({ id: z.string(), name: z.string() });

export const ArtistSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    bio: z.string(),
    ownerId: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Artist");

export const AlbumSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    artist: Ref,
    releaseDate: z.string().nullable(),
    genre: Ref.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Album");

export const TrackSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    artist: Ref,
    album: z.object({ id: z.string(), title: z.string() }).nullable(),
    trackNumber: z.number().int().nullable(),
    durationMs: z.number().int().nullable(),
    genre: Ref.nullable(),
    isrc: z.string().nullable(),
    releaseDate: z.string().nullable(),
    explicit: z.boolean(),
    visibility: z.enum(VISIBILITIES),
    status: z.enum(TRACK_STATUSES),
    ownerId: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Track");

export const AlbumWithTracksSchema = AlbumSchema.extend({ tracks: z.array(TrackSchema) }).openapi(
  "AlbumWithTracks",
);

export const GenreSchema = z.object({ id: z.string(), name: z.string() }).openapi("Genre");

/** Problem responses every route may give, for the OpenAPI document. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_DESCRIPTIONS[status] ?? "Error",
        content: { "application/problem+json": { schema: ProblemSchema } },
      },
    ]),
  );
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid input (`VALIDATION_FAILED`, `INVALID_CURSOR`, `MALFORMED_JSON`)",
  401: "Missing, invalid or expired credentials",
  402: "Needs a paid plan (`PLAN_REQUIRED`)",
  403: "Signed in, but not allowed",
  404: "Not found, or not visible to the caller",
  409: "Conflicts with the current state",
  422: "Well-formed but not acceptable",
  429: "Rate limited; see `Retry-After`",
  451: "Not available in the caller's territory (`NOT_AVAILABLE_IN_TERRITORY`)",
  503: "A dependency could not be reached or the service is misconfigured; try again",
};

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const BEARER = [{ bearer: [] }];
