import { z } from "@hono/zod-openapi";
import { VISIBILITIES } from "@edge-music/core/db/schema";

/** Request bodies of the catalog's write endpoints. */

const ISO_DATE = /^\d{4}(-\d{2}(-\d{2})?)?$/;
const releaseDate = z
  .string()
  .regex(ISO_DATE, "use YYYY, YYYY-MM or YYYY-MM-DD")
  .openapi({ example: "2024-05-17" });

/** ISRC: CC-XXX-YY-NNNNN, dashes optional, stored upper case without dashes. */
const isrc = z
  .string()
  .transform((v) => v.replaceAll("-", "").toUpperCase())
  .pipe(z.string().regex(/^[A-Z]{2}[A-Z0-9]{3}\d{7}$/, "an ISRC looks like CC-XXX-YY-NNNNN"))
  .openapi({ example: "USRC17607839" });

const name = z.string().trim().min(1).max(200);

export const ArtistCreateSchema = z
  .object({
    name,
    bio: z.string().max(5000).optional(),
    ownerId: z.string().max(64).optional().openapi({
      description: "Admins only: the artist account that will manage this artist.",
    }),
  })
  .strict()
  .openapi("ArtistCreate");

export const ArtistPatchSchema = ArtistCreateSchema.partial().strict().openapi("ArtistPatch");

export const AlbumCreateSchema = z
  .object({
    artistId: z.string().max(64),
    title: name,
    releaseDate: releaseDate.optional(),
    genre: z.string().trim().min(1).max(60).optional(),
  })
  .strict()
  .openapi("AlbumCreate");

export const AlbumPatchSchema = AlbumCreateSchema.omit({ artistId: true })
  .partial()
  .strict()
  .openapi("AlbumPatch");

export const TrackCreateSchema = z
  .object({
    title: name,
    artistId: z.string().max(64),
    albumId: z.string().max(64).nullable().optional(),
    trackNumber: z.number().int().min(1).max(999).nullable().optional(),
    durationMs: z
      .number()
      .int()
      .min(0)
      .max(24 * 3600 * 1000)
      .nullable()
      .optional(),
    genre: z.string().trim().min(1).max(60).nullable().optional(),
    isrc: isrc.nullable().optional(),
    releaseDate: releaseDate.nullable().optional(),
    explicit: z.boolean().optional(),
    visibility: z.enum(VISIBILITIES).optional(),
  })
  .strict()
  .openapi("TrackCreate");

export const TrackPatchSchema = TrackCreateSchema.omit({ artistId: true })
  .partial()
  .strict()
  .openapi("TrackPatch");
