import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/** Port the transcoder listens on when run by `npm start` (TRANSCODER_PORT overrides). */
export const TRANSCODER_DEFAULT_PORT = 8789;

function send(res: ServerResponse, status: number, body: unknown, type = "application/json") {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store" });
  res.end(text);
}

/** Routes of the transcoder; the ingest issue adds `POST /jobs`. */
export function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? "/", "http://transcoder").pathname;
  if (req.method === "GET" && path === "/ping") return send(res, 200, "pong", "text/plain");
  if (req.method === "GET" && path === "/healthz") {
    return send(res, 200, { ok: true, service: "transcoder" });
  }
  send(
    res,
    404,
    {
      type: "about:blank",
      title: "Not Found",
      status: 404,
      code: "ROUTE_NOT_FOUND",
      detail: `No route for ${req.method} ${path}.`,
    },
    "application/problem+json",
  );
}

/** Starts the HTTP server; port 0 picks a free port (tests). */
export function startServer(port: number, host = "127.0.0.1"): Promise<Server> {
  const server = createServer(handle);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
