import { createRoute, z } from "@hono/zod-openapi";
import { UPLOAD_STATES, VISIBILITIES } from "@edge-music/core/db/schema";
import { PageQuerySchema, pageSchema } from "../../lib/pagination";
import { createRouter } from "../../lib/router";
import { requireViewer } from "../../middleware/auth";
import { enforceRateLimits } from "../../middleware/rate-limit";
import { BEARER, IdParamSchema, json, jsonBody, problems } from "../../http/schemas";

const UploadSchema = z
  .object({
    id: z.string(),
    filename: z.string(),
    contentType: z.string(),
    size: z.number().int(),
    state: z.enum(UPLOAD_STATES),
    progress: z.object({
      stage: z.string().nullable(),
      percent: z.number().int(),
      attempt: z.number().int().openapi({
        description: "Ingest attempts made so far; above 1 the job is being retried.",
      }),
      maxAttempts: z.number().int(),
    }),
    failure: z.object({ code: z.string(), reason: z.string() }).nullable(),
    trackId: z.string().nullable(),
    duplicateOf: z.string().nullable().openapi({
      description: "A track of yours with the same audio fingerprint, when there is one.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Upload");

const CreateUploadBody = z
  .object({
    filename: z.string().trim().min(1).max(255),
    contentType: z.string().trim().min(1).max(100).openapi({ example: "audio/flac" }),
    size: z
      .number()
      .int()
      .positive("an empty file cannot be uploaded")
      .openapi({ description: "Exact size in bytes; the PUT must send exactly this many." }),
    title: z.string().trim().min(1).max(200).optional(),
    artistId: z.string().max(64).optional().openapi({
      description: "An artist you manage; otherwise the file's artist tag names one of yours.",
    }),
    albumId: z.string().max(64).optional().openapi({ description: "An album of that artist." }),
    visibility: z.enum(VISIBILITIES).optional().openapi({ description: "Default `private`." }),
  })
  .strict()
  .openapi("CreateUpload");

const CreatedUploadSchema = z
  .object({
    uploadId: z.string(),
    putUrl: z
      .string()
      .openapi({ description: "Presigned PUT URL (SigV4); send the headers below with the body." }),
    headers: z.record(z.string(), z.string()),
    expiresAt: z.string(),
  })
  .openapi("CreatedUpload");

const create = createRoute({
  method: "post",
  path: "/",
  tags: ["uploads"],
  summary: "Start an upload: get a presigned PUT URL bound to the type and size",
  security: BEARER,
  request: { body: jsonBody(CreateUploadBody) },
  responses: {
    201: json(CreatedUploadSchema, "PUT the file to putUrl, then call complete"),
    ...problems(400, 401, 403, 404, 413, 415, 422, 429),
  },
});

const complete = createRoute({
  method: "post",
  path: "/{id}/complete",
  tags: ["uploads"],
  summary: "Confirm the PUT finished; the upload is queued for transcoding",
  security: BEARER,
  request: { params: IdParamSchema },
  responses: { 202: json(UploadSchema, "Queued"), ...problems(401, 404, 409) },
});

const get = createRoute({
  method: "get",
  path: "/{id}",
  tags: ["uploads"],
  summary: "An upload's state, progress, failure reason and, when ready, its track",
  security: BEARER,
  request: { params: IdParamSchema },
  responses: { 200: json(UploadSchema, "The upload"), ...problems(401, 404) },
});

const list = createRoute({
  method: "get",
  path: "/",
  tags: ["uploads"],
  summary: "Your uploads, newest first",
  security: BEARER,
  request: { query: PageQuerySchema },
  responses: { 200: json(pageSchema(UploadSchema), "Uploads"), ...problems(400, 401) },
});

const cancel = createRoute({
  method: "delete",
  path: "/{id}",
  tags: ["uploads"],
  summary: "Cancel an upload that is not being processed (removes the file and the record)",
  security: BEARER,
  request: { params: IdParamSchema },
  responses: { 204: { description: "Cancelled" }, ...problems(401, 404, 409) },
});

export const uploadRoutes = createRouter()
  .openapi(create, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await enforceRateLimits([{ limiter: c.env.UPLOAD_LIMITER, key: viewer.id }], "uploads");
    return c.json(await c.get("services").uploads.create(viewer, c.req.valid("json")), 201);
  })
  .openapi(complete, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").uploads.complete(viewer, c.req.valid("param").id), 202);
  })
  .openapi(get, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").uploads.get(viewer, c.req.valid("param").id), 200);
  })
  .openapi(list, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    return c.json(await c.get("services").uploads.list(viewer, c.req.valid("query")), 200);
  })
  .openapi(cancel, async (c) => {
    const viewer = requireViewer(c.get("viewer"));
    await c.get("services").uploads.cancel(viewer, c.req.valid("param").id);
    return c.body(null, 204);
  });
