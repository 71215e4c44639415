// The demo catalog `npm start` seeds through the public API: three accounts (printed with
// their passwords) and a few artists and albums whose tracks are generated with ffmpeg's
// lavfi sources (music-like, tagged, with a cover) and uploaded through the real flow:
// presigned PUT, complete, queue, transcoder, ready.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const DEMO_ACCOUNTS = {
  admin: { email: "admin@demo.local", password: "demo-admin-password", displayName: "Demo Admin" },
  artist: {
    email: "artist@demo.local",
    password: "demo-artist-password",
    displayName: "Demo Artist",
  },
  listener: {
    email: "listener@demo.local",
    password: "demo-listener-password",
    displayName: "Demo Listener",
  },
};

export const DEMO_ARTISTS = [
  {
    name: "Aurora Lumen",
    bio: "Synth-pop from a lighthouse.",
    albums: [
      {
        title: "Northern Static",
        releaseDate: "2023-02-10",
        genre: "Synth-pop",
        tracks: ["Polar Night", "Signal Fire", "Glass Harbour", "Café Lumière"],
      },
    ],
  },
  {
    name: "Sigurd Ólafsson",
    bio: "Ambient recordings of glaciers, mostly.",
    albums: [
      {
        title: "Jökull",
        releaseDate: "2021-11-05",
        genre: "Ambient",
        tracks: ["Ísbrú", "Hvítur", "Thaw"],
      },
      {
        title: "Fjörður",
        releaseDate: "2024-06-21",
        genre: "Ambient",
        tracks: ["Low Tide", "Sæla"],
      },
    ],
  },
  {
    name: "The Midnight Ferns",
    bio: "Four friends, one garage, too many pedals.",
    albums: [
      {
        title: "Undergrowth",
        releaseDate: "2022-08-19",
        genre: "Indie Rock",
        tracks: ["Moss", "Canopy", "Spores", "Photosynthesis (Live)"],
      },
    ],
  },
];

async function request(api, method, path, { body, token } = {}) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      "User-Agent": "edge-music demo seeder",
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function must(api, method, path, options, expected = [200, 201]) {
  const res = await request(api, method, path, options);
  if (!expected.includes(res.status)) {
    throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/** Signs in a demo account, registering it the first time. */
async function account(api, { email, password, displayName }) {
  const registered = await request(api, "POST", "/v1/auth/register", {
    body: { email, password, displayName, deviceName: "demo seeder" },
  });
  if (registered.status === 201) return registered.body;
  if (registered.status !== 409)
    throw new Error(`register ${email}: ${JSON.stringify(registered.body)}`);
  return must(api, "POST", "/v1/auth/login", {
    body: { email, password, deviceName: "demo seeder" },
  });
}

/** Uploads a file the way a client does: ask for a URL, PUT straight to storage, complete. */
async function uploadFile(api, token, file, extra) {
  const bytes = readFileSync(file);
  const created = await must(api, "POST", "/v1/uploads", {
    token,
    body: {
      filename: path.basename(file),
      contentType: "audio/mpeg",
      size: bytes.length,
      ...extra,
    },
  });
  const put = await fetch(created.putUrl, { method: "PUT", headers: created.headers, body: bytes });
  if (!put.ok) throw new Error(`PUT of ${file} answered ${put.status}`);
  await must(api, "POST", `/v1/uploads/${created.uploadId}/complete`, { token }, [202]);
  return created.uploadId;
}

/** Waits until every upload is ready; a failure stops the seeding with its reason. */
async function waitReady(api, token, ids) {
  const deadline = Date.now() + 300_000;
  for (const id of ids) {
    for (;;) {
      const upload = await must(api, "GET", `/v1/uploads/${id}`, { token });
      if (upload.state === "ready") break;
      if (upload.state === "failed")
        throw new Error(`demo upload failed: ${upload.failure?.reason}`);
      if (Date.now() > deadline) throw new Error(`demo upload ${id} is still ${upload.state}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/**
 * Seeds the demo accounts and catalog; a second run finds them and adds nothing. Registering
 * never makes an admin: `grantAdmin(email)` is the operator's command, run for the demo admin.
 */
export async function seedDemo(api, { grantAdmin }) {
  // Loaded here, not at the top: `npm start` imports this file before it installs packages.
  const { makeMusic } = await import("@edge-music/testkit/lavfi-media");
  const admin = await account(api, DEMO_ACCOUNTS.admin);
  if (admin.user.role !== "admin") grantAdmin(DEMO_ACCOUNTS.admin.email);
  const artist = await account(api, DEMO_ACCOUNTS.artist);
  await account(api, DEMO_ACCOUNTS.listener);
  if (artist.user.role !== "artist") {
    await must(api, "PUT", `/v1/users/${artist.user.id}/role`, {
      token: admin.accessToken,
      body: { role: "artist" },
    });
  }
  const token = artist.accessToken;
  const work = mkdtempSync(path.join(tmpdir(), "demo-audio-"));
  const pending = [];
  let uploaded = 0;
  try {
    for (const [artistIndex, demo] of DEMO_ARTISTS.entries()) {
      const existing = await must(
        api,
        "GET",
        `/v1/search?type=artist&q=${encodeURIComponent(demo.name)}`,
      );
      if (existing.items.some((a) => a.name === demo.name)) continue;
      const a = await must(api, "POST", "/v1/artists", {
        token,
        body: { name: demo.name, bio: demo.bio },
      });
      for (const [albumIndex, album] of demo.albums.entries()) {
        const alb = await must(api, "POST", "/v1/albums", {
          token,
          body: {
            artistId: a.id,
            title: album.title,
            releaseDate: album.releaseDate,
            genre: album.genre,
          },
        });
        for (const [i, title] of album.tracks.entries()) {
          const file = path.join(work, `${alb.id}-${i}.mp3`);
          makeMusic(file, 25 + ((i * 7) % 20), {
            root: 110 * 2 ** ((artistIndex * 5 + albumIndex * 3 + i * 2) / 12),
            cover: true,
            coverColor: ["0x3355aa", "0xaa5533", "0x33aa77"][artistIndex % 3],
            codec: ["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "3"],
            tags: {
              title,
              artist: demo.name,
              album: album.title,
              track: String(i + 1),
              date: album.releaseDate.slice(0, 4),
              genre: album.genre,
            },
          });
          pending.push(
            await uploadFile(api, token, file, {
              artistId: a.id,
              albumId: alb.id,
              visibility: "public",
            }),
          );
          uploaded++;
          if (pending.length % 8 === 0) await waitReady(api, token, pending.splice(0));
        }
      }
    }
    await waitReady(api, token, pending);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { created: uploaded };
}
