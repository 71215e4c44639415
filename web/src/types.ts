/** The api's shapes, from its contract (generated from the route definitions). */
export type * from "@edge-music/core/api-contract";
