import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for Stripe's API that runs beside the tests (Node, not workerd): it records
 * every request it gets and answers `POST /v1/checkout/sessions` the way Stripe does.
 * `GET /__recorded` returns what was sent, so tests check exactly what the api sent Stripe.
 * A customer email containing `+declined` gets Stripe's error shape instead. It also cancels
 * subscriptions (`DELETE /v1/subscriptions/:id`) and deletes customers
 * (`DELETE /v1/customers/:id`), failing for ids containing `unreachable`.
 */
export async function startStripeRecorder(): Promise<string> {
  const recorded: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: string;
  }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (req.url === "/__recorded") {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(recorded));
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      recorded.push({ method: req.method ?? "", path: req.url ?? "", headers, body });
      if (req.method === "POST" && req.url === "/v1/checkout/sessions") {
        if (new URLSearchParams(body).get("customer_email")?.includes("+declined")) {
          res.writeHead(400, { "Content-Type": "application/json" }).end(
            JSON.stringify({
              error: { type: "invalid_request_error", message: "No such price" },
            }),
          );
          return;
        }
        const id = `cs_test_${recorded.length}`;
        res.writeHead(200, { "Content-Type": "application/json" }).end(
          JSON.stringify({
            id,
            object: "checkout.session",
            url: `https://checkout.stripe.com/c/pay/${id}`,
          }),
        );
        return;
      }
      const deletion = /^\/v1\/(subscriptions|customers)\/([^/]+)$/.exec(req.url ?? "");
      if (req.method === "DELETE" && deletion?.[2]) {
        const [, kind, id] = deletion;
        if (id.includes("unreachable")) {
          res
            .writeHead(500, { "Content-Type": "application/json" })
            .end(JSON.stringify({ error: { type: "api_error", message: "Try again" } }));
          return;
        }
        res
          .writeHead(200, { "Content-Type": "application/json" })
          .end(
            JSON.stringify(
              kind === "customers"
                ? { id, object: "customer", deleted: true }
                : { id, object: "subscription", status: "canceled" },
            ),
          );
        return;
      }
      res.writeHead(404, { "Content-Type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
