import type { Role } from "@edge-music/core/db/schema";
import type { Services } from "./features";

/** The signed-in caller, as read fresh from D1 on every request. */
export type Viewer = {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  plan: string;
  sessionId: string;
};

/** Hono's environment for every router of the api worker. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    viewer: Viewer | null;
  };
};
