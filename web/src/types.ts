/** The api's shapes the web app reads (see /openapi.json). */
export type Track = {
  id: string;
  title: string;
  artist: { id: string; name: string };
  album: { id: string; title: string } | null;
  durationMs: number | null;
  genre: { id: string; name: string } | null;
  visibility: string;
  status: string;
  ownerId: string;
};

export type Page<T> = { items: T[]; nextCursor: string | null };

export type Playlist = {
  id: string;
  title: string;
  description: string;
  visibility: "public" | "private";
  revision: number;
  itemCount: number;
  ownerId: string;
};

export type PlaylistItem = {
  id: string;
  position: number;
  track: Track | null;
  available: boolean;
  unavailableReason: string | null;
};

export type Upload = {
  id: string;
  filename: string;
  state: "awaiting_upload" | "queued" | "processing" | "ready" | "failed";
  progress: { stage: string | null; percent: number; attempt: number; maxAttempts: number };
  failure: { code: string; reason: string } | null;
  trackId: string | null;
  duplicateOf: string | null;
};
