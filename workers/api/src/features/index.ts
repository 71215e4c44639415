import type { Config } from "../lib/config";
import { createDb } from "../lib/db";
import { AlbumService } from "./catalog/albums";
import { ArtistService } from "./catalog/artists";
import { AuthService } from "./accounts/auth";
import { GenreService } from "./catalog/genres";
import { IngestService } from "./uploads/ingest";
import { PlaybackService } from "./playback/playback";
import { LicenseService } from "./playback/licenses";
import { rewrapContentKeys } from "./playback/content-keys";
import { ListenerStreamLimits } from "./playback/listener-streams";
import { PlayCounters } from "./plays/play-counters";
import { PlaysService } from "./plays/plays";
import { PlaylistService } from "./playlists/playlists";
import { PrivacyService } from "./privacy/privacy";
import { LikeService } from "./likes/likes";
import { RecommendationService } from "./recommendations/recommendations";
import { SubscriptionService } from "./subscriptions/subscriptions";
import { RightsService } from "./plays/rights";
import { RoyaltyService } from "./plays/royalties";
import { SearchService } from "./search/search";
import { StorageSweeps } from "./uploads/storage-sweeps";
import { TokenRevocations } from "./accounts/token-revocations";
import { TrackService } from "./catalog/tracks";
import { UploadService } from "./uploads/uploads";
import { RepackageService } from "./uploads/repackage";

export type Services = ReturnType<typeof buildServices>;

/** Every service of one request, sharing one D1 handle; built by a middleware. */
export function buildServices(env: Env, config: Config) {
  const db = createDb(env.DB);
  const genres = new GenreService(db);
  const rights = new RightsService(db);
  const counters = new PlayCounters(env.PLAY_COUNTER);
  const streams = new ListenerStreamLimits(env.LISTENER_STREAMS);
  const sweeps = new StorageSweeps(db, env.MEDIA);
  const subscriptions = new SubscriptionService(db, config);
  const playback = new PlaybackService(db, config, env.MEDIA);
  const revocations = new TokenRevocations(db, env.MEDIA);
  return {
    auth: new AuthService(db, config),
    artists: new ArtistService(db),
    albums: new AlbumService(db, genres),
    tracks: new TrackService(db, genres),
    genres,
    search: new SearchService(db),
    uploads: new UploadService(db, config, env, sweeps),
    ingest: new IngestService(db, config, env, genres, sweeps),
    repackage: new RepackageService(db, config, env, sweeps, revocations),
    sweeps,
    playback,
    licenses: new LicenseService(db, config, playback),
    contentKeys: {
      rewrap: () => rewrapContentKeys(db, config.protection.keks, config.protection.activeKekId),
    },
    rights,
    playlists: new PlaylistService(db, env.DB),
    likes: new LikeService(db),
    recommendations: new RecommendationService(db),
    subscriptions,
    privacy: new PrivacyService(db, env.DB, counters, streams, subscriptions, sweeps),
    revocations,
    plays: new PlaysService(db, counters, streams, config.playback.keys, config.plays),
    royalties: new RoyaltyService(db, config, counters),
  };
}
