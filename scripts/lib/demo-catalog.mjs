// The demo catalog `npm start` seeds through the public API: three accounts (printed with
// their passwords) and a few artists, albums and tracks. Metadata only for now; the ingest
// pipeline will make them playable from audio generated at seed time.

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

/** Seeds the demo accounts and catalog; a second run finds them and adds nothing. */
export async function seedDemo(api) {
  const admin = await account(api, DEMO_ACCOUNTS.admin);
  const artist = await account(api, DEMO_ACCOUNTS.artist);
  await account(api, DEMO_ACCOUNTS.listener);
  if (artist.user.role !== "artist") {
    await must(api, "PUT", `/v1/users/${artist.user.id}/role`, {
      token: admin.accessToken,
      body: { role: "artist" },
    });
  }
  const token = artist.accessToken;
  let created = 0;
  for (const demo of DEMO_ARTISTS) {
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
    for (const album of demo.albums) {
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
        await must(api, "POST", "/v1/tracks", {
          token,
          body: {
            artistId: a.id,
            albumId: alb.id,
            title,
            trackNumber: i + 1,
            genre: album.genre,
            releaseDate: album.releaseDate,
            durationMs: 150_000 + i * 17_000,
          },
        });
        created++;
      }
    }
  }
  return { created };
}
