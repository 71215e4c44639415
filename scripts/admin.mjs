#!/usr/bin/env node
// `npm run admin -- grant <email>`: the operator's way to make an admin (registering an
// address never does). `revoke <email>` makes the account a listener again; `list` shows the
// admins. Local state by default; `--remote` for the deployed D1 (add `--env production`).
import { listAdmins, setAdmin } from "./lib/admin.mjs";

const USAGE = `usage: npm run admin -- <grant|revoke> <email> [--remote] [--env <name>] [--persist-to <dir>]
       npm run admin -- list [--remote] [--env <name>] [--persist-to <dir>]`;

const args = process.argv.slice(2);
const target = {};
const words = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === "--remote") target.remote = true;
  else if (arg === "--env") target.env = args[++i];
  else if (arg === "--persist-to") target.persistTo = args[++i];
  else if (arg?.startsWith("--")) fail(`unknown option ${arg}`);
  else words.push(arg);
}
const [command, email] = words;

function fail(message) {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

try {
  if (command === "list" && words.length === 1) {
    const admins = listAdmins(target);
    if (admins.length === 0) console.log("No admins yet: npm run admin -- grant <email>");
    for (const a of admins) console.log(`${a.email}  ${a.id}`);
  } else if ((command === "grant" || command === "revoke") && words.length === 2) {
    const row = setAdmin(email, command === "grant", target);
    if (!row) {
      console.error(`No account has the address ${email}: register it first, then run this again.`);
      process.exit(1);
    }
    console.log(
      `${row.email} (${row.id}) is now ${row.role === "admin" ? "an admin" : "a listener"}.`,
    );
  } else {
    fail(command ? `cannot ${words.join(" ")}` : "what should it do?");
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
