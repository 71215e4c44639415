import { log } from "./log.js";
import { TRANSCODER_DEFAULT_PORT, startServer } from "./server.js";

const port = Number(
  process.env["TRANSCODER_PORT"] ?? process.env["PORT"] ?? TRANSCODER_DEFAULT_PORT,
);
const host = process.env["TRANSCODER_HOST"] ?? "0.0.0.0";
const server = await startServer(port, host);
log("info", "listening", { port, host });

// Containers and `npm start` stop us with SIGTERM/SIGINT: finish in-flight requests, then exit.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  });
}
