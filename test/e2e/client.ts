import { readFile } from "node:fs/promises";
import path from "node:path";
import type { CreatedUpload, TokenPair, Upload } from "@edge-music/core/api-contract";
import type { Stack } from "./stack";

/**
 * Calls the stack's api with a bearer token; a non-2xx answer throws with its body. `T` is a
 * shape from the api's contract (`@edge-music/core/api-contract`).
 */
export async function apiCall<T>(
  stack: Stack,
  token: string | undefined,
  method: string,
  route: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${stack.api}${route}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : null,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Registers an account and returns its access token. */
export async function registerAccount(
  stack: Stack,
  email: string,
  displayName: string,
  password = "correct horse battery",
): Promise<string> {
  const { accessToken } = await apiCall<TokenPair>(stack, undefined, "POST", "/v1/auth/register", {
    email,
    password,
    displayName,
  });
  return accessToken;
}

/** Asks for an upload of `file` and PUTs its bytes to the presigned URL; returns its id. */
export async function putUpload(
  stack: Stack,
  token: string,
  file: string,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const bytes = await readFile(file);
  const created = await apiCall<CreatedUpload>(stack, token, "POST", "/v1/uploads", {
    filename: path.basename(file),
    contentType: "audio/flac",
    size: bytes.length,
    ...fields,
  });
  const put = await fetch(created.putUrl, { method: "PUT", headers: created.headers, body: bytes });
  if (!put.ok) throw new Error(`PUT ${put.status}`);
  return created.uploadId;
}

/** The uploader's whole send: ask, PUT straight to storage, complete. Returns the upload id. */
export async function sendUpload(
  stack: Stack,
  token: string,
  file: string,
  fields: Record<string, unknown> = {},
): Promise<string> {
  const id = await putUpload(stack, token, file, fields);
  await apiCall(stack, token, "POST", `/v1/uploads/${id}/complete`);
  return id;
}

/** Polls an upload until it is `ready` or `failed` (90 s at most); returns its view. */
export async function untilProcessed(stack: Stack, token: string, uploadId: string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const view = await apiCall<Upload>(stack, token, "GET", `/v1/uploads/${uploadId}`);
    if (view.state === "ready" || view.state === "failed") return view;
    if (Date.now() > deadline) throw new Error(`upload ${uploadId} stuck in ${view.state}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
