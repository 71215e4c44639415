import type { HlsConfig } from "hls.js";
import { toBase64Url } from "@edge-music/core/bytes";
import { keyIdToBase64Url } from "@edge-music/core/content-protection";
import type { PlaybackGrant } from "../types";

type Protection = NonNullable<PlaybackGrant["protection"]>;

/** What a listener reads when the browser cannot decrypt: in words, with what to do. */
export const NO_CLEARKEY_MESSAGE =
  "This browser cannot play this track: its music is encrypted, and the browser offers no " +
  "ClearKey decryption for it (Safari needs Apple's FairPlay, which this server does not " +
  "offer yet). Chrome, Edge and Firefox play it.";

const CODECS: ReadonlyMap<string, string> = new Map([
  ["mp4a.40.2", 'audio/mp4; codecs="mp4a.40.2"'],
  ["fLaC", 'audio/mp4; codecs="flac"'],
]);

/** Answers of the browser, by key system and codecs: asked once per page, not per play. */
const access = new Map<string, Promise<boolean>>();

/** Whether this browser offers ClearKey with cbcs for the grant's audio. */
export function clearKeyAvailable(grant: PlaybackGrant): Promise<boolean> {
  if (!grant.protection) return Promise.resolve(true);
  if (typeof navigator.requestMediaKeySystemAccess !== "function") return Promise.resolve(false);
  const codecs = [...new Set(grant.renditions.map((r) => CODECS.get(r.codecs) ?? ""))].filter(
    Boolean,
  );
  const keySystem = grant.protection.keySystem;
  const asked = `${keySystem} ${codecs.join(",")}`;
  let answer = access.get(asked);
  if (!answer) {
    answer = navigator
      .requestMediaKeySystemAccess(keySystem, [
        {
          initDataTypes: ["keyids", "cenc"],
          audioCapabilities: codecs.map((contentType) => ({ contentType })),
        },
      ])
      .then(
        () => true,
        () => false,
      );
    access.set(asked, answer);
  }
  return answer;
}

/** The license request's headers: who is asking, and the grant that entitles them. */
function licenseHeaders(grant: PlaybackGrant, accessToken: string | null) {
  return {
    "Content-Type": "application/json",
    "X-Playback-Token": grant.token,
    ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}),
  };
}

/**
 * hls.js settings for an encrypted grant (the full build: the light one has no EME). The media
 * carries no pssh, so the key request is built from the playlist's key id as EME `keyids`.
 */
export function hlsProtectionConfig(
  grant: PlaybackGrant,
  protection: Protection,
  accessToken: () => string | null,
): Partial<HlsConfig> {
  return {
    emeEnabled: true,
    drmSystems: {
      [protection.keySystem]: {
        licenseUrl: protection.licenseUrl,
        generateRequest: (_type, _data, context) => {
          const fromPlaylist = context.decryptdata.keyId;
          const kid = fromPlaylist ? toBase64Url(fromPlaylist) : keyIdToBase64Url(protection.keyId);
          return {
            initDataType: "keyids",
            initData: new TextEncoder().encode(JSON.stringify({ kids: [kid] })).buffer,
          };
        },
      },
    },
    licenseXhrSetup: (xhr, url) => {
      if (xhr.readyState !== XMLHttpRequest.OPENED) xhr.open("POST", url, true);
      for (const [name, value] of Object.entries(licenseHeaders(grant, accessToken()))) {
        xhr.setRequestHeader(name, value);
      }
    },
  };
}

/** dash.js protection data for an encrypted grant (the `dash.all` build has the module). */
export function dashProtectionData(
  grant: PlaybackGrant,
  protection: Protection,
  accessToken: string | null,
) {
  return {
    [protection.keySystem]: {
      serverURL: protection.licenseUrl,
      httpRequestHeaders: licenseHeaders(grant, accessToken),
    },
  };
}
