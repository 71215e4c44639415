import { createApp } from "./app";
import { consumeIngest } from "./queues/ingest-consumer";
import { runScheduled } from "./scheduled";

export { PlayCounter } from "./durable-objects/play-counter";
export { ListenerStreams } from "./durable-objects/listener-streams";
/** Bound only in production (`[env.production]` in wrangler.toml). */
export { TranscoderContainer } from "./durable-objects/transcoder-container";

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env, _ctx) {
    await consumeIngest(batch, env);
  },
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(controller, env));
  },
} satisfies ExportedHandler<Env>;
