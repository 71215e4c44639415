import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { createRouter } from "./lib/router";
import { log } from "./lib/log";
import { ConfigError } from "./lib/config";
import { DomainError } from "@edge-music/core/api-errors";
import { domainErrorResponse, problemResponse } from "./lib/problem";
import { optionalAuth } from "./middleware/auth";
import { requestContext } from "./middleware/request-context";
import { albumRoutes } from "./features/catalog/albums.routes";
import { artistRoutes } from "./features/catalog/artists.routes";
import { authRoutes } from "./features/accounts/auth.routes";
import { genreRoutes } from "./features/catalog/genres.routes";
import { exportRoutes, meRoutes } from "./features/accounts/me.routes";
import { searchRoutes } from "./features/search/search.routes";
import { trackRoutes } from "./features/catalog/tracks.routes";
import { downloadRoutes, playbackRoutes } from "./features/playback/playback.routes";
import { licenseRoutes } from "./features/playback/licenses.routes";
import { repackageRoutes } from "./features/uploads/repackage.routes";
import { contentKeyRoutes } from "./features/playback/content-keys.routes";
import { rightsHolderRoutes, trackRightsRoutes } from "./features/plays/rights.routes";
import { userRoutes } from "./features/accounts/users.routes";
import { uploadRoutes } from "./features/uploads/uploads.routes";
import { devStorageRoutes } from "./http/dev-storage.routes";
import { historyRoutes, playEventRoutes } from "./features/plays/plays.routes";
import { playlistRoutes, userPlaylistRoutes } from "./features/playlists/playlists.routes";
import { likeRoutes } from "./features/likes/likes.routes";
import { subscriptionRoutes } from "./features/subscriptions/subscriptions.routes";
import { royaltyRoutes, topTrackRoutes, trackStatsRoutes } from "./features/plays/royalties.routes";
import {
  recommendationRoutes,
  similarTrackRoutes,
} from "./features/recommendations/recommendations.routes";

/** The largest JSON body the api reads (a full batch of playback events is about 40 KiB). */
export const JSON_BODY_MAX_BYTES = 256 * 1024;

/** The api: every route under /v1, plus health and the OpenAPI document. */
/** The OpenAPI document's head; its paths come from the route definitions. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Edge Music API",
    version: "1.0.0",
    description:
      "Errors are RFC 9457 problem+json bodies with a stable `code`. Lists are cursor-paginated: pass `nextCursor` back as `cursor`.",
  },
};

export function createApp() {
  const app = createRouter();

  app.use("*", requestContext);
  app.use(
    "*",
    secureHeaders({
      // JSON only: nothing here may be framed, sniffed or run as a page.
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      strictTransportSecurity: "max-age=31536000; includeSubDomains",
      referrerPolicy: "strict-origin-when-cross-origin",
    }),
  );
  // Every JSON body (uploads' bytes go to storage, never here); refused before it is read.
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: JSON_BODY_MAX_BYTES,
      onError: () => {
        throw new DomainError(
          "BODY_TOO_LARGE",
          `Request bodies are limited to ${JSON_BODY_MAX_BYTES / 1024} KiB.`,
        );
      },
    }),
  );
  app.use("/v1/*", optionalAuth);

  app.get("/healthz", (c) => c.json({ ok: true, service: "api" }));

  // One router per resource path, made of the features that answer under it.
  const resource = (...routers: ReturnType<typeof createRouter>[]) => {
    const router = createRouter();
    for (const r of routers) router.route("/", r);
    return router;
  };
  app.route("/v1/auth", authRoutes);
  app.route("/v1/me", resource(meRoutes, exportRoutes, historyRoutes, likeRoutes));
  app.route("/v1/users", resource(userRoutes, userPlaylistRoutes));
  app.route("/v1/playlists", playlistRoutes);
  app.route("/v1", subscriptionRoutes);
  app.route("/v1/artists", resource(artistRoutes, topTrackRoutes));
  app.route("/v1/albums", albumRoutes);
  app.route(
    "/v1/tracks",
    resource(trackRoutes, playbackRoutes, trackRightsRoutes, trackStatsRoutes, similarTrackRoutes),
  );
  app.route("/v1/recommendations", recommendationRoutes);
  app.route("/v1/playback-events", playEventRoutes);
  app.route("/v1/licenses", licenseRoutes);
  app.route("/v1/downloads", downloadRoutes);
  app.route("/v1/admin/repackage", repackageRoutes);
  app.route("/v1/admin", contentKeyRoutes);
  app.route("/v1/royalties", royaltyRoutes);
  app.route("/v1/rights-holders", rightsHolderRoutes);
  app.route("/v1/genres", genreRoutes);
  app.route("/v1/search", searchRoutes);
  app.route("/v1/uploads", uploadRoutes);
  app.route("/dev/r2", devStorageRoutes);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.doc31("/openapi.json", OPENAPI_DOCUMENT);

  app.notFound((c) =>
    problemResponse(
      "ROUTE_NOT_FOUND",
      `No route for ${c.req.method} ${c.req.path}.`,
      c.get("requestId"),
    ),
  );

  app.onError((err, c) => {
    const requestId = c.get("requestId") ?? crypto.randomUUID();
    if (err instanceof DomainError) return domainErrorResponse(err, requestId);
    if (err instanceof ConfigError) {
      // The message names the setting, never its value; production keeps even that in the log.
      log("error", "configuration invalid: refusing to serve", { requestId, error: err.message });
      return problemResponse(
        "SERVICE_MISCONFIGURED",
        c.env.ENVIRONMENT === "production"
          ? "The service is not configured correctly."
          : `The service is not configured correctly: ${err.message}`,
        requestId,
      );
    }
    if (err instanceof HTTPException) {
      // Hono's own refusals: unparseable JSON bodies, mostly.
      const malformed = err.status === 400 && /json/i.test(err.message);
      return problemResponse(
        malformed ? "MALFORMED_JSON" : "BAD_REQUEST",
        malformed ? "The request body is not valid JSON." : err.message,
        requestId,
      );
    }
    log("error", "unhandled error", {
      requestId,
      path: c.req.path,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return problemResponse("INTERNAL", "Something went wrong on our side.", requestId);
  });

  return app;
}
