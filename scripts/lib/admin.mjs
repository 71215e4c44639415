// Who is an admin is decided by the operator, never by registering an address: these run
// one statement against D1 through `wrangler d1 execute`, locally or against the deployed
// database. Shared by `npm run admin`, `npm start` (the demo admin) and the e2e stack.
import { spawnSync } from "node:child_process";
import { ROOT, STATE_DIR, WRANGLER_ENV, wranglerBin } from "./setup.mjs";

/** Addresses as the api stores them: trimmed, lowercase; nothing that could leave a SQL string. */
export function normalizeAdminEmail(email) {
  const normal = String(email ?? "")
    .trim()
    .toLowerCase();
  if (normal.length > 254 || !/^[^\s@'"\\;]+@[^\s@'"\\;]+\.[^\s@'"\\;]+$/.test(normal)) {
    throw new Error(`not an email address: ${JSON.stringify(String(email ?? ""))}`);
  }
  return normal;
}

/**
 * Runs `sql` on the D1 database `DB` and returns the rows of its answer. `target`:
 * `{ remote: true, env?: "production" }` for the deployed database, else local state under
 * `persistTo`.
 */
function d1(sql, { remote = false, env, persistTo = STATE_DIR } = {}) {
  const args = ["d1", "execute", "DB", "--json", "--command", sql];
  if (remote) args.push("--remote");
  else args.push("--local", "--persist-to", persistTo);
  if (env) args.push("--env", env);
  const run = spawnSync(wranglerBin(), args, {
    cwd: ROOT,
    env: { ...WRANGLER_ENV, CI: "true" },
    encoding: "utf8",
  });
  if (run.status !== 0) {
    throw new Error(`wrangler d1 execute failed:\n${run.stderr || run.stdout}`);
  }
  const answer = JSON.parse(run.stdout);
  return (Array.isArray(answer) ? answer : [answer]).flatMap((r) => r.results ?? []);
}

/**
 * Makes the account with `email` an admin (`grant: true`) or a listener again. Returns the
 * changed account, or null when no account has that address. The api reads roles from D1 on
 * every request, so it applies at once.
 */
export function setAdmin(email, grant, target = {}) {
  const address = normalizeAdminEmail(email);
  const role = grant ? "admin" : "listener";
  const [row] = d1(
    `UPDATE users SET role = '${role}', updated_at = ${Date.now()} ` +
      `WHERE email = '${address}' RETURNING id, email, role`,
    target,
  );
  return row ?? null;
}

/** The admins' accounts. */
export function listAdmins(target = {}) {
  return d1("SELECT id, email, created_at FROM users WHERE role = 'admin' ORDER BY email", target);
}
