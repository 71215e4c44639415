import { z } from "zod";
import { hexToBytes, toBase64Url } from "./bytes.js";

/**
 * Content protection shared by the transcoder (packaging and manifests), the api (keys and the
 * license endpoint) and the web player (ClearKey requests). One scheme: CENC `cbcs`, the one
 * FairPlay, Widevine, PlayReady and browsers' ClearKey all accept.
 */
export const CONTENT_PROTECTION_MODES = ["cbcs", "off"] as const;
export type ContentProtectionMode = (typeof CONTENT_PROTECTION_MODES)[number];

/** A 128-bit key or key id as 32 lower-case hex digits: how packagers and manifests write them. */
export const HexKeySchema = z.string().regex(/^[0-9a-f]{32}$/);

/** W3C ClearKey's DRM system id, as DASH names it (`urn:uuid:...`). */
export const CLEARKEY_SYSTEM_ID = "e2719d58-a985-b3c9-781a-b030af78d30e";
/** The key system name EME and HLS `KEYFORMAT` use. */
export const CLEARKEY_KEY_SYSTEM = "org.w3.clearkey" as const;

/** A key id as ClearKey messages carry it (base64url of the 16 bytes). */
export const keyIdToBase64Url = (hex: string) => toBase64Url(hexToBytes(hex));

/** A key id as DASH's `cenc:default_KID` writes it: a UUID. */
export function keyIdToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** W3C ClearKey license: a JSON Web Key set of symmetric keys. */
export type ClearKeyLicense = {
  keys: { kty: "oct"; kid: string; k: string }[];
  type: "temporary";
};
