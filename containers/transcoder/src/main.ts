import { log } from "./log.js";
import { TRANSCODER_DEFAULT_PORT, startServer } from "./server.js";

const port = Number(
  process.env["TRANSCODER_PORT"] ?? process.env["PORT"] ?? TRANSCODER_DEFAULT_PORT,
);
const host = process.env["TRANSCODER_HOST"] ?? "0.0.0.0";
const secret = process.env["TRANSCODER_SECRET"];
if (!secret) {
  console.error(
    "TRANSCODER_SECRET is not set: the transcoder refuses to start without its shared secret.",
  );
  process.exit(1);
}
const server = await startServer(port, { secret }, host);
log("info", "listening", { port, host });

// Containers and `npm start` stop us with SIGTERM/SIGINT: finish in-flight requests, then exit.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  });
}
