import { readConfig } from "../lib/config";
import { log } from "../lib/log";
import { buildServices } from "../features";
import { createDb } from "../lib/db";
import { computeTrackNeighbours } from "../features/recommendations/track-neighbours";
import { cleanupUploads } from "./cleanup";

/** The cron (wrangler.toml) that removes abandoned uploads and stuck jobs. */
export const UPLOAD_CLEANUP_CRON = "*/15 * * * *";

/** Sessions revoked or expired this long ago are deleted, with their refresh tokens. */
export const ENDED_SESSION_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Popularity follows the rollups: recent changes every 15 minutes, a 30-day sweep daily (decay). */
const POPULARITY_OVERLAP_MS = 16 * 60 * 1000;
const POPULARITY_SWEEP_MS = 30 * 24 * 3600 * 1000;

/** The crons: housekeeping that no request path should pay for. */
export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const config = readConfig(env);
  const services = buildServices(env, config);
  if (controller.cron === UPLOAD_CLEANUP_CRON) {
    const removed = await cleanupUploads(createDb(env.DB), env, config, services.ingest);
    const popular = await services.royalties.refreshPopularity(
      services.tracks,
      Date.now() - POPULARITY_OVERLAP_MS,
    );
    // Prefixes of erased accounts, cancelled or failed uploads and failed transcodes: emptied
    // again until every URL that could write there has expired.
    const swept = await services.sweeps.run();
    log("info", "upload cleanup", {
      cron: controller.cron,
      dryRun: config.cleanupDryRun,
      ...removed,
      popular,
      swept,
    });
    return;
  }
  const purged = await services.auth.purgeEndedSessions(ENDED_SESSION_RETENTION_MS);
  const grants = await services.plays.purgeGrants();
  const graceEnded = await services.subscriptions.endExpiredGrace();
  const popular = await services.royalties.refreshPopularity(
    services.tracks,
    Date.now() - POPULARITY_SWEEP_MS,
  );
  const neighbours = await computeTrackNeighbours(env.DB);
  log("info", "scheduled housekeeping", {
    cron: controller.cron,
    purgedSessions: purged,
    purgedGrants: grants,
    graceEnded,
    popular,
    neighbours,
  });
}
