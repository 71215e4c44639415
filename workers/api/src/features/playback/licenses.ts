import { licenseAudit } from "@edge-music/core/db/schema";
import { DomainError } from "@edge-music/core/api-errors";
import { hexToBytes, toBase64Url } from "@edge-music/core/bytes";
import { keyIdToBase64Url, type ClearKeyLicense } from "@edge-music/core/content-protection";
import { UNKNOWN_TERRITORY } from "@edge-music/core/play-events";
import { verifyPlaybackToken } from "@edge-music/core/playback-token";
import type { Viewer } from "../../app-env";
import type { Config } from "../../lib/config";
import { newId } from "../../lib/crypto";
import type { Db } from "../../lib/db";
import { notFound } from "../../lib/problem";
import { openContentKey, storedContentKey } from "./content-keys";
import type { PlaybackService } from "./playback";
import { rowsOf, type PersonalData } from "../privacy/personal-data";

/**
 * The ClearKey license endpoint's rules: a key goes only to the listener a playback grant
 * was made for, for the asset version it opens, while the track is still theirs to play
 * (checked again now, not trusted from the grant), and each key handed out is recorded.
 */
export class LicenseService {
  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly playback: PlaybackService,
  ) {}

  async license(
    viewer: Viewer,
    grantToken: string | null,
    kids: string[],
    territory: string | null,
  ): Promise<ClearKeyLicense> {
    if (!grantToken) {
      throw new DomainError(
        "GRANT_INVALID",
        "Send the playback grant's token in X-Playback-Token.",
      );
    }
    const verified = await verifyPlaybackToken(grantToken, this.config.playback.keys);
    if (!verified.ok) {
      throw new DomainError(verified.refusal === "expired" ? "GRANT_EXPIRED" : "GRANT_INVALID");
    }
    const claims = verified.claims;
    // Another account's grant: as if it did not exist.
    if (claims.sub !== viewer.id) throw notFound("The playback");
    // Rights, visibility, readiness and territory as of now; the grant's asset must still be
    // the track's (a re-packaged track has a new key: ask for a new grant).
    const { asset } = await this.playback.streamable(viewer, claims.trk, territory);
    if (asset.id !== claims.av) {
      throw new DomainError("GRANT_EXPIRED", "The track's media changed: ask for a new grant.");
    }
    const stored = await storedContentKey(this.db, claims.av);
    const kid = stored ? keyIdToBase64Url(stored.keyId) : null;
    if (!stored || kids.some((k) => k !== kid)) throw new DomainError("KEY_NOT_FOUND");
    const key = await openContentKey(stored, this.config.protection.keks);
    await this.db.insert(licenseAudit).values({
      id: newId("lic"),
      userId: viewer.id,
      trackId: claims.trk,
      assetVersionId: claims.av,
      keyId: stored.keyId,
      territory: territory ?? UNKNOWN_TERRITORY,
    });
    return {
      keys: [{ kty: "oct", kid: kid ?? "", k: toBase64Url(hexToBytes(key)) }],
      type: "temporary",
    };
  }
}

/** The audit rows go with the account (a cascade); the export lists them. */
export const LICENSE_PERSONAL_DATA: PersonalData = {
  export: [{ name: "licenses", sql: rowsOf("license_audit", "user_id") }],
};
