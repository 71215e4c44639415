import { readConfig } from "../lib/config";
import { log } from "../lib/log";
import { buildServices } from "../services";

/** Sessions revoked or expired this long ago are deleted, with their refresh tokens. */
export const ENDED_SESSION_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** The daily cron: housekeeping that no request path should pay for. */
export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
  const services = buildServices(env, readConfig(env));
  const purged = await services.auth.purgeEndedSessions(ENDED_SESSION_RETENTION_MS);
  log("info", "scheduled housekeeping", { cron: controller.cron, purgedSessions: purged });
}
