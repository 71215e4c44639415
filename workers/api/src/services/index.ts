import type { Config } from "../lib/config";
import { createDb } from "../lib/db";
import { AlbumService } from "./albums";
import { ArtistService } from "./artists";
import { AuthService } from "./auth";
import { GenreService } from "./genres";
import { IngestService } from "./ingest";
import { PlaybackService } from "./playback";
import { ListenerStreamLimits } from "./listener-streams";
import { PlayCounters } from "./play-counters";
import { PlaysService } from "./plays";
import { PlaylistService } from "./playlists";
import { PrivacyService } from "./privacy";
import { LikeService } from "./likes";
import { RecommendationService } from "./recommendations";
import { SubscriptionService } from "./subscriptions";
import { RightsService } from "./rights";
import { RoyaltyService } from "./royalties";
import { SearchService } from "./search";
import { StorageSweeps } from "./storage-sweeps";
import { TokenRevocations } from "./token-revocations";
import { TrackService } from "./tracks";
import { UploadService } from "./uploads";

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
  return {
    auth: new AuthService(db, config),
    artists: new ArtistService(db),
    albums: new AlbumService(db, genres),
    tracks: new TrackService(db, genres),
    genres,
    search: new SearchService(db),
    uploads: new UploadService(db, config, env, sweeps),
    ingest: new IngestService(db, config, env, genres, sweeps),
    sweeps,
    playback: new PlaybackService(db, config),
    rights,
    playlists: new PlaylistService(db, env.DB),
    likes: new LikeService(db),
    recommendations: new RecommendationService(db),
    subscriptions,
    privacy: new PrivacyService(db, env.DB, counters, streams, subscriptions, sweeps),
    revocations: new TokenRevocations(db, env.MEDIA),
    plays: new PlaysService(db, counters, streams, config.playback.keys, config.plays),
    royalties: new RoyaltyService(db, config, counters),
  };
}
