// Renders /openapi.json as a filterable list of operations; no third-party code, so the
// page runs under the same strict Content-Security-Policy as the rest of the site.
const root = document.getElementById("operations");
const filter = document.getElementById("filter");

const doc = await (await fetch("/openapi.json")).json();

function resolve(schema) {
  if (schema && schema.$ref) return resolve(doc.components.schemas[schema.$ref.split("/").pop()]);
  return schema;
}

function example(schema, depth = 0) {
  schema = resolve(schema);
  if (!schema || depth > 6) return null;
  if (schema.example !== undefined) return schema.example;
  if (schema.anyOf) return example(schema.anyOf[0], depth + 1);
  if (schema.enum) return schema.enum[0];
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case "object":
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([k, v]) => [k, example(v, depth + 1)]),
      );
    case "array":
      return [example(schema.items, depth + 1)];
    case "integer":
    case "number":
      return 0;
    case "boolean":
      return false;
    case "null":
      return null;
    default:
      return "string";
  }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, attrs);
  for (const child of children) node.append(child);
  return node;
}

function render(query) {
  root.replaceChildren();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const text =
        `${method} ${path} ${op.summary ?? ""} ${(op.tags ?? []).join(" ")}`.toLowerCase();
      if (query && !text.includes(query.toLowerCase())) continue;
      const summary = el(
        "summary",
        { className: op.security ? "lock" : "" },
        el("span", { className: `method ${method}`, textContent: method.toUpperCase() }),
        `${path} — ${op.summary ?? ""}`,
        el("span", { className: "tag", textContent: (op.tags ?? []).join(", ") }),
      );
      const body = [];
      for (const p of op.parameters ?? []) {
        body.push(
          el("div", {
            textContent: `${p.in} ${p.name}${p.required ? " (required)" : ""}: ${p.schema?.description ?? p.description ?? resolve(p.schema)?.type ?? ""}`,
          }),
        );
      }
      const requestSchema = op.requestBody?.content?.["application/json"]?.schema;
      if (requestSchema) {
        body.push(
          el("h4", { textContent: "Request body" }),
          el("pre", { textContent: JSON.stringify(example(requestSchema), null, 2) }),
        );
      }
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        const schema = Object.values(response.content ?? {})[0]?.schema;
        body.push(el("h4", { textContent: `${status} ${response.description}` }));
        if (schema && status < 300)
          body.push(el("pre", { textContent: JSON.stringify(example(schema), null, 2) }));
      }
      root.append(el("details", {}, summary, ...body));
    }
  }
}

render("");
filter.addEventListener("input", () => render(filter.value));
