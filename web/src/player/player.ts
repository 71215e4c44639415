import type Hls from "hls.js";
import { api, describeError } from "../api";
import { clock, h } from "../dom";
import type { Track } from "../types";
import {
  NO_CLEARKEY_MESSAGE,
  clearKeyAvailable,
  dashProtectionData,
  hlsProtectionConfig,
} from "./content-protection";
import { PlayReporter } from "./play-reporter";
import { Waveform, type WaveformData } from "./waveform";
import type { PlaybackGrant as Grant } from "../types";

export type StreamFormat = "hls" | "dash";
const FORMAT_KEY = "edge-music.format";
/** A progress event this often while playing, so a stream is counted soon after 30 s. */
const PROGRESS_EVERY_MS = 10_000;
/** Loudness normalisation turns quiet tracks up by at most this much (no clipping). */
const MAX_BOOST_DB = 6;

const RENDITION_LABELS: ReadonlyMap<string, string> = new Map([
  ["aac_64", "AAC 64k"],
  ["aac_128", "AAC 128k"],
  ["aac_256", "AAC 256k"],
  ["flac", "FLAC (lossless)"],
]);
const renditionOf = (url: string) => /\/(aac_\d+|flac)\//.exec(url)?.[1] ?? null;

/**
 * The player bar: a queue of tracks played through hls.js (Safari's own HLS where it has
 * it) or dash.js, loudness-normalised through Web Audio, with a waveform to seek on, a
 * quality menu limited to what the plan's grant lists, playback events for the plays
 * pipeline, Media Session controls and keyboard shortcuts.
 */
export class Player {
  readonly element: HTMLElement;
  #audio = h("audio", { preload: "auto" });
  /** The Web Audio source of the element playing, once loudness normalisation is set up. */
  #source: MediaElementAudioSourceNode | null = null;
  readonly reporter = new PlayReporter();
  #queue: Track[] = [];
  #index = -1;
  #grant: Grant | null = null;
  #hls: Hls | null = null;
  /** Counts loads, so a slower earlier one never attaches over a later one. */
  #loads = 0;
  #dash: { reset(): void } | null = null;
  #gain: GainNode | null = null;
  /** The rendition playing, when the engine says (Safari's native HLS does not). */
  #rendition: string | null = null;
  #played = 0;
  #lastTime = 0;
  #lastEventAt = 0;
  #started = false;
  #progressTimer = 0;
  /** When the stream last asked for a fresh grant (a token refused by the gate). */
  #regrantedAt = 0;
  #waveform = new Waveform((fraction) => this.seek(fraction * this.duration));
  #title = h("div", { class: "now-title" }, "Nothing playing");
  #subtitle = h("div", { class: "now-subtitle" });
  #time = h("span", { class: "time" }, "0:00 / 0:00");
  #playButton = h("button", { class: "play", onclick: () => this.toggle() }, "Play");
  #quality = h("select", {
    "aria-label": "Quality",
    hidden: true,
    onchange: () => this.#chooseLevel(),
  });
  #renditionLabel = h("span", { class: "rendition", "aria-live": "polite" });
  #message = h("p", { class: "player-error", role: "alert" });
  #queueList = h("ol", { class: "queue" });
  format: StreamFormat = (localStorage.getItem(FORMAT_KEY) as StreamFormat | null) ?? "hls";

  constructor() {
    const formatSelect = h(
      "select",
      {
        "aria-label": "Stream format",
        onchange: (e: Event) => {
          this.format = (e.target as HTMLSelectElement).value as StreamFormat;
          localStorage.setItem(FORMAT_KEY, this.format);
          if (this.current) void this.#load(this.audio.currentTime);
        },
      },
      h("option", { value: "hls", selected: this.format === "hls" }, "HLS"),
      h("option", { value: "dash", selected: this.format === "dash" }, "DASH"),
    );
    this.element = h(
      "section",
      { class: "player", "aria-label": "Player" },
      h("div", { class: "now" }, this.#title, this.#subtitle),
      h(
        "div",
        { class: "controls" },
        h("button", { onclick: () => this.previous(), "aria-label": "Previous" }, "Prev"),
        this.#playButton,
        h("button", { onclick: () => this.next(true), "aria-label": "Next" }, "Next"),
        this.#time,
      ),
      this.#waveform.canvas,
      h(
        "div",
        { class: "settings" },
        this.#renditionLabel,
        this.#quality,
        formatSelect,
        h("button", { onclick: () => void this.#download() }, "Download"),
        h("details", { class: "queue-box" }, h("summary", {}, "Queue"), this.#queueList),
      ),
      this.#message,
      this.#audio,
    );
    this.#listen(this.#audio);
    this.#keyboard();
  }

  /** The element playing now (a new one after encrypted playback; see `#stop`). */
  get audio(): HTMLAudioElement {
    return this.#audio;
  }

  get current(): Track | null {
    return this.#queue[this.#index] ?? null;
  }

  get duration(): number {
    return Number.isFinite(this.audio.duration)
      ? this.audio.duration
      : (this.#grant?.durationMs ?? 0) / 1000;
  }

  /** Plays `tracks` from `index`, replacing the queue. */
  async playQueue(tracks: Track[], index = 0): Promise<void> {
    this.#queue = tracks;
    await this.#go(index, false);
  }

  toggle(): void {
    if (!this.current) return;
    if (this.audio.paused) void this.audio.play().catch((e: unknown) => this.#fail(e));
    else this.audio.pause();
  }

  seek(seconds: number): void {
    if (!this.current) return;
    this.#account();
    this.audio.currentTime = Math.max(0, Math.min(seconds, this.duration - 0.1));
  }

  async next(skipped = false): Promise<void> {
    if (this.#index + 1 < this.#queue.length) await this.#go(this.#index + 1, skipped);
    else if (skipped) this.audio.pause();
  }

  async previous(): Promise<void> {
    if (this.audio.currentTime > 3 || this.#index === 0) this.seek(0);
    else await this.#go(this.#index - 1, true);
  }

  async #go(index: number, skipped: boolean): Promise<void> {
    if (skipped && this.#started) this.#event("skip");
    // The old playback is over: no pause for it when its stream is torn down.
    this.#started = false;
    this.#index = index;
    this.#renderQueue();
    await this.#load(0);
  }

  /** Asks for a grant, then attaches the stream at `startAt` seconds and plays. */
  async #load(startAt: number): Promise<void> {
    const track = this.current;
    if (!track) return;
    this.#stop();
    this.#message.textContent = "";
    this.#title.textContent = track.title;
    this.#subtitle.textContent = track.artist.name + (track.album ? ` · ${track.album.title}` : "");
    // A newer load (another track, another format) makes this one stale at its next await.
    const load = ++this.#loads;
    try {
      const grant = await api.post<Grant>(`/v1/tracks/${track.id}/playback`, {
        format: this.format,
      });
      if (load !== this.#loads) return;
      this.#grant = grant;
      this.#started = false;
      this.#played = 0;
      this.#lastTime = startAt;
      this.#fillQuality(grant);
      void fetch(grant.waveform)
        .then((r) => (r.ok ? (r.json() as Promise<WaveformData>) : null))
        .then((w) => this.#waveform.load(w))
        .catch(() => this.#waveform.load(null));
      if (!(await this.#attach(grant, load))) return;
      this.audio.currentTime = startAt;
      this.#normalise(grant.loudness.gainDb);
      this.#mediaSession(track, grant);
      await this.audio.play();
    } catch (error) {
      // A newer load interrupted this one (its play() rejects as it starts): not a failure.
      if (load === this.#loads) this.#fail(error);
    }
  }

  /** Attaches an engine for `grant`; false when a newer load took over meanwhile. */
  async #attach(grant: Grant, load: number): Promise<boolean> {
    const { protection } = grant;
    if (protection && !(await clearKeyAvailable(grant))) throw new Error(NO_CLEARKEY_MESSAGE);
    if (this.format === "dash") {
      // The dash.all build: it carries the protection module.
      const { MediaPlayer } = await import("dashjs");
      if (load !== this.#loads) return false;
      const dash = MediaPlayer().create();
      if (protection) {
        dash.setProtectionData(dashProtectionData(grant, protection, api.accessToken));
      }
      dash.initialize(this.audio, grant.dash, false);
      dash.on("qualityChangeRendered", () => {
        const rep = dash.getCurrentRepresentationForType("audio");
        this.#setRendition(rep?.id ?? null);
      });
      this.#dash = dash;
      this.#setRendition(null);
      return true;
    }
    // The full build, loaded at the first play (the page itself stays light): it has EME.
    const { default: Hls } = await import("hls.js");
    if (load !== this.#loads) return false;
    if (Hls.isSupported()) {
      const hls = new Hls({
        capLevelToPlayerSize: false,
        startLevel: -1,
        ...(protection ? hlsProtectionConfig(grant, protection, () => api.accessToken) : {}),
      });
      hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
        const level = hls.levels[data.level];
        this.#setRendition(renditionOf(level?.url[0] ?? ""));
      });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) return;
        // The gate refused the token (expired after a long pause, or revoked when the track's
        // rights changed): a fresh grant says whether and how the listener may go on.
        const status = data.response?.code;
        if ((status === 403 || status === 410) && Date.now() - this.#regrantedAt > 30_000) {
          this.#regrantedAt = Date.now();
          void this.#load(this.audio.currentTime);
          return;
        }
        this.#fail(new Error(`The stream failed (${data.details}).`));
      });
      // Ours from now on, so a newer load's stop destroys it even before its manifest is in.
      this.#hls = hls;
      hls.loadSource(grant.hls);
      hls.attachMedia(this.audio);
      await new Promise<void>((resolve) => hls.once(Hls.Events.MANIFEST_PARSED, () => resolve()));
      return load === this.#loads;
    }
    if (!protection && this.audio.canPlayType("application/vnd.apple.mpegurl")) {
      this.audio.src = grant.hls;
      this.#setRendition(null);
      return true;
    }
    throw new Error("This browser cannot play HLS.");
  }

  #stop(): void {
    if (this.#started && !this.audio.paused) this.#event("pause");
    this.#hls?.destroy();
    this.#hls = null;
    this.#dash?.reset();
    this.#dash = null;
    const old = this.#audio;
    old.removeAttribute("src");
    clearInterval(this.#progressTimer);
    // After encrypted playback the next one gets a fresh element: the old one's keys go with
    // it (every playback asks the license endpoint, which checks again that the listener may
    // play), and hls.js's and dash.js's late clean-up of their keys cannot reach the next
    // playback's. Clear playback keeps its element (iOS lets an element play once touched).
    if (!old.mediaKeys && !this.#grant?.protection) return;
    const fresh = h("audio", { preload: "auto" });
    fresh.muted = old.muted;
    fresh.volume = old.volume;
    this.#audio = fresh;
    this.#listen(fresh);
    old.replaceWith(fresh);
    if (this.#source && this.#gain) {
      this.#source.disconnect();
      const source = (this.#gain.context as AudioContext).createMediaElementSource(fresh);
      source.connect(this.#gain);
      this.#source = source;
    }
  }

  #fillQuality(grant: Grant): void {
    const plan = api.user?.plan ?? "free";
    const best = grant.renditions.at(-1)?.id ?? "";
    this.#quality.replaceChildren(
      h("option", { value: "-1" }, "Auto"),
      ...grant.renditions.map((r, i) =>
        h("option", { value: String(i) }, RENDITION_LABELS.get(r.id) ?? r.id),
      ),
    );
    this.#quality.title = `Your ${plan} plan plays up to ${RENDITION_LABELS.get(best) ?? best}.`;
    this.#quality.hidden = false;
  }

  #chooseLevel(): void {
    if (!this.#hls || !this.#grant) return;
    const chosen = Number(this.#quality.value);
    const id = this.#grant.renditions[chosen]?.id;
    // hls.js orders levels by bandwidth, as the grant lists renditions; match by id to be sure.
    const level = id ? this.#hls.levels.findIndex((l) => renditionOf(l.url[0] ?? "") === id) : -1;
    this.#hls.currentLevel = level;
  }

  #setRendition(id: string | null): void {
    this.#rendition = id;
    this.#renditionLabel.textContent = id ? (RENDITION_LABELS.get(id) ?? id) : "Auto";
    this.element.dataset["rendition"] = id ?? "";
  }

  /** The track's gain to -14 LUFS, through Web Audio, so the original dynamics are kept. */
  #normalise(gainDb: number): void {
    try {
      if (!this.#gain) {
        const context = new AudioContext();
        this.#gain = context.createGain();
        this.#gain.connect(context.destination);
        this.#source = context.createMediaElementSource(this.#audio);
        this.#source.connect(this.#gain);
      }
      if (this.#gain.context.state === "suspended")
        void (this.#gain.context as AudioContext).resume();
      const db = Math.min(MAX_BOOST_DB, gainDb);
      this.#gain.gain.value = 10 ** (db / 20);
      this.element.dataset["gainDb"] = db.toFixed(2);
    } catch {
      // Without Web Audio the track plays as mastered.
    }
  }

  #mediaSession(track: Track, grant: Grant): void {
    if (!("mediaSession" in navigator)) return;
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artist.name,
      album: track.album?.title ?? "",
      artwork: [{ src: grant.hls.replace(/master\.m3u8$/, "cover.jpg"), type: "image/jpeg" }],
    });
    const actions: [MediaSessionAction, MediaSessionActionHandler][] = [
      ["play", () => void this.audio.play()],
      ["pause", () => this.audio.pause()],
      ["previoustrack", () => void this.previous()],
      ["nexttrack", () => void this.next(true)],
      ["seekto", (d) => this.seek(d.seekTime ?? 0)],
      ["seekbackward", () => this.seek(this.audio.currentTime - 10)],
      ["seekforward", () => this.seek(this.audio.currentTime + 10)],
    ];
    for (const [action, handler] of actions) {
      try {
        navigator.mediaSession.setActionHandler(action, handler);
      } catch {
        // An action this browser does not know.
      }
    }
  }

  /** Adds the time actually played since the last look (seeks and stalls add nothing). */
  #account(): void {
    const now = this.audio.currentTime;
    const delta = now - this.#lastTime;
    if (!this.audio.seeking && delta > 0 && delta < 2) this.#played += delta * 1000;
    this.#lastTime = now;
  }

  #event(type: "start" | "progress" | "pause" | "resume" | "seek" | "skip" | "end"): void {
    const track = this.current;
    if (!track || !this.#grant) return;
    this.#account();
    const wall = Date.now() - this.#lastEventAt;
    // Never claim more than the wall clock allows: the api refuses such events.
    const playedMs = type === "start" ? 0 : Math.floor(Math.min(this.#played, wall));
    this.#played = 0;
    this.#lastEventAt = Date.now();
    this.reporter.add({
      playbackId: this.#grant.playbackId,
      trackId: track.id,
      type,
      positionMs: Math.floor(this.audio.currentTime * 1000),
      playedMs,
      // Unknown: the lowest the grant lists, which the plan always allows.
      rendition: this.#rendition ?? this.#grant.renditions[0]?.id ?? "aac_64",
    });
  }

  /** Follows `a` while it is the element playing (a replaced one says nothing more). */
  #listen(a: HTMLAudioElement): void {
    const on = (type: string, handler: () => void) =>
      a.addEventListener(type, () => {
        if (a === this.#audio) handler();
      });
    on("playing", () => {
      this.#playButton.textContent = "Pause";
      this.#lastTime = a.currentTime;
      if (!this.#started) {
        this.#started = true;
        this.#lastEventAt = Date.now();
        this.#event("start");
      } else this.#event("resume");
      clearInterval(this.#progressTimer);
      this.#progressTimer = window.setInterval(() => this.#event("progress"), PROGRESS_EVERY_MS);
    });
    on("pause", () => {
      this.#playButton.textContent = "Play";
      clearInterval(this.#progressTimer);
      if (this.#started && !a.ended) this.#event("pause");
    });
    on("seeking", () => this.#account());
    on("seeked", () => {
      if (this.#started) this.#event("seek");
      this.#lastTime = a.currentTime;
    });
    on("timeupdate", () => {
      this.#account();
      this.#time.textContent = `${clock(a.currentTime)} / ${clock(this.duration)}`;
      this.#waveform.progress = this.duration ? a.currentTime / this.duration : 0;
    });
    on("ended", () => {
      clearInterval(this.#progressTimer);
      this.#event("end");
      this.#started = false;
      void this.reporter.flush();
      void this.next(false);
    });
  }

  #keyboard(): void {
    addEventListener("keydown", (e) => {
      const target = e.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable]")) return;
      const keys = new Map<string, () => void>([
        [" ", () => this.toggle()],
        ["k", () => this.toggle()],
        ["ArrowLeft", () => this.seek(this.audio.currentTime - 5)],
        ["ArrowRight", () => this.seek(this.audio.currentTime + 5)],
        ["n", () => void this.next(true)],
        ["p", () => void this.previous()],
        ["m", () => (this.audio.muted = !this.audio.muted)],
      ]);
      const action = keys.get(e.key);
      if (action && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        action();
      }
    });
  }

  #renderQueue(): void {
    this.#queueList.replaceChildren(
      ...this.#queue.map((t, i) =>
        h(
          "li",
          { class: i === this.#index ? "current" : "" },
          h("button", { class: "link", onclick: () => void this.#go(i, true) }, t.title),
          ` — ${t.artist.name}`,
        ),
      ),
    );
  }

  /** Premium keeps a file for offline listening; on other plans the api's 402 says why not. */
  async #download(): Promise<void> {
    const track = this.current;
    if (!track) return;
    try {
      const { url } = await api.post<{ url: string }>(`/v1/tracks/${track.id}/download`, {});
      location.assign(url);
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    this.#message.textContent = describeError(error);
    this.#playButton.textContent = "Play";
  }
}
