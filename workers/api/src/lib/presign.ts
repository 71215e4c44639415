import { AwsV4Signer } from "aws4fetch";
import { timingSafeEqual } from "./crypto";

/** R2's S3 API credentials and where it is: R2 in production, our dev route locally. */
export type S3Target = {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
};

const encodeKey = (key: string) => key.split("/").map(encodeURIComponent).join("/");

/** The path-style URL of an object: `<endpoint>/<bucket>/<key>`. */
export function objectUrl(target: S3Target, key: string): URL {
  return new URL(`${target.endpoint.replace(/\/+$/, "")}/${target.bucket}/${encodeKey(key)}`);
}

/**
 * A SigV4 query-signed URL (what R2 and the AWS SDK's presigner produce). Every header
 * given is signed, so a PUT bound to a Content-Type and Content-Length fails with others.
 */
export async function presign(
  target: S3Target,
  request: {
    method: "GET" | "PUT" | "HEAD";
    key: string;
    headers?: Record<string, string>;
    expiresSeconds: number;
  },
): Promise<string> {
  const url = objectUrl(target, request.key);
  url.searchParams.set("X-Amz-Expires", String(request.expiresSeconds));
  const signed = await signer(target, request.method, url, request.headers ?? {}).sign();
  return signed.url.toString();
}

/** SigV4 in the query, R2's S3 flavour, every given header signed. */
function signer(
  target: S3Target,
  method: string,
  url: URL,
  headers: Record<string, string> | [string, string][],
  datetime?: string,
) {
  return new AwsV4Signer({
    method,
    url: url.toString(),
    headers,
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    service: "s3",
    region: "auto",
    signQuery: true,
    allHeaders: true,
    ...(datetime ? { datetime } : {}),
  });
}

export type PresignCheck = { ok: true; key: string } | { ok: false; reason: string };

/**
 * Verifies a presigned request the way R2 does: same credential, not expired, and the
 * signature re-derived from the method, URL and the signed headers as received.
 */
export async function verifyPresigned(
  target: S3Target,
  request: Request,
  now = Date.now(),
): Promise<PresignCheck> {
  const url = new URL(request.url);
  const q = url.searchParams;
  const signature = q.get("X-Amz-Signature");
  const date = q.get("X-Amz-Date");
  const expires = Number(q.get("X-Amz-Expires"));
  const credential = q.get("X-Amz-Credential") ?? "";
  const signedHeaders = (q.get("X-Amz-SignedHeaders") ?? "").split(";").filter(Boolean);
  if (
    !signature ||
    !date ||
    !Number.isFinite(expires) ||
    q.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256"
  ) {
    return { ok: false, reason: "not a presigned request" };
  }
  if (credential.split("/")[0] !== target.accessKeyId)
    return { ok: false, reason: "unknown credential" };
  const signedAt = Date.parse(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  if (!Number.isFinite(signedAt) || now > signedAt + expires * 1000)
    return { ok: false, reason: "expired" };
  const unsigned = new URL(url);
  unsigned.searchParams.delete("X-Amz-Signature");
  // Header names come from the URL: collected in a Map, so `__proto__` is just a name.
  const headers = new Map<string, string>();
  for (const name of signedHeaders) {
    if (name === "host") continue;
    const value = request.headers.get(name);
    if (value === null) return { ok: false, reason: `signed header ${name} missing` };
    headers.set(name, value);
  }
  const resigned = await signer(target, request.method, unsigned, [...headers], date).sign();
  const expected = resigned.url.searchParams.get("X-Amz-Signature") ?? "";
  const encoder = new TextEncoder();
  if (!timingSafeEqual(encoder.encode(expected), encoder.encode(signature))) {
    return { ok: false, reason: "signature mismatch" };
  }
  const prefix = `/${target.bucket}/`;
  const path = new URL(target.endpoint).pathname.replace(/\/+$/, "") + prefix;
  if (!url.pathname.startsWith(path)) return { ok: false, reason: "wrong bucket" };
  return {
    ok: true,
    key: url.pathname.slice(path.length).split("/").map(decodeURIComponent).join("/"),
  };
}
