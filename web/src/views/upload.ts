import { limiter } from "@edge-music/core/limiter";
import { ApiProblem, api, describeError } from "../api";
import { h } from "../dom";
import type { App, View } from "../app";
import type { Upload } from "../types";
import type { CreatedUpload as Created } from "../types";

const POLL_MS = 1000;
/** Files sent at once; the rest of an album waits its turn in the list. */
const PARALLEL_SENDS = 3;
/** How often a file refused for too many uploads in progress asks again. */
const IN_FLIGHT_RETRY_MS = 5000;
const ACCEPT = "audio/*,.mp3,.wav,.flac,.m4a,.aac,.ogg,.opus,.aif,.aiff";
const STAGES: ReadonlyMap<string, string> = new Map<Upload["state"], string>([
  ["awaiting_upload", "Waiting for the file"],
  ["queued", "Queued for processing"],
  ["processing", "Processing"],
  ["ready", "Ready"],
  ["failed", "Failed"],
]);
/** File name extensions we can name a type for (a Map: a file named `x.constructor` finds none). */
const TYPES_BY_EXTENSION: ReadonlyMap<string, string> = new Map([
  ["mp3", "audio/mpeg"],
  ["wav", "audio/wav"],
  ["flac", "audio/flac"],
  ["m4a", "audio/mp4"],
  ["aac", "audio/aac"],
  ["ogg", "audio/ogg"],
  ["opus", "audio/ogg"],
  ["aif", "audio/aiff"],
  ["aiff", "audio/aiff"],
]);

const sending = limiter(PARALLEL_SENDS).run;

/**
 * Upload: drop or pick files; each goes straight to storage with a presigned PUT (a bar for
 * the bytes sent), then shows the processing stage and percent until ready or failed. A whole
 * album can be dropped at once: files are sent a few at a time, and those beyond the account's
 * limit of uploads in progress wait in the list until one finishes.
 */
export const upload: View = (app) => {
  const list = h("ul", { class: "uploads" });
  const visibility = h(
    "select",
    { "aria-label": "Who can listen" },
    h("option", { value: "private" }, "Only me"),
    h("option", { value: "public" }, "Everyone"),
  );
  const picker = h("input", {
    type: "file",
    multiple: true,
    accept: ACCEPT,
    class: "visually-hidden",
    id: "file-picker",
  });
  const start = (files: FileList | null) => {
    for (const file of Array.from(files ?? []))
      list.prepend(uploadRow(app, file, visibility.value));
  };
  picker.addEventListener("change", () => {
    start(picker.files);
    picker.value = "";
  });
  const zone = h(
    "div",
    {
      class: "dropzone",
      ondragover: (e: DragEvent) => {
        e.preventDefault();
        zone.classList.add("over");
      },
      ondragleave: () => zone.classList.remove("over"),
      ondrop: (e: DragEvent) => {
        e.preventDefault();
        zone.classList.remove("over");
        start(e.dataTransfer?.files ?? null);
      },
    },
    h(
      "p",
      {},
      "Drop audio files here, or ",
      h("label", { for: "file-picker", class: "link" }, "choose files"),
      ".",
    ),
    h("small", {}, "MP3, WAV, FLAC, AAC/M4A, Ogg/Opus or AIFF, up to 500 MB each."),
    picker,
  );
  return h(
    "section",
    {},
    h("h1", {}, "Upload"),
    h("label", {}, "Who can listen: ", visibility),
    zone,
    list,
  );
};

function uploadRow(app: App, file: File, visibility: string): HTMLElement {
  const bar = h("progress", { max: 100, value: 0 });
  const status = h("span", { class: "status" }, "Starting…");
  const cancel = h("button", { class: "cancel" }, "Cancel");
  const row = h("li", { class: "upload" }, h("strong", {}, file.name), bar, status, cancel);
  let uploadId: string | null = null;
  let xhr: XMLHttpRequest | null = null;
  let stopped = false;
  const fail = (message: string, cls = "failed") => {
    row.classList.add(cls);
    status.textContent = message;
    cancel.remove();
  };
  cancel.addEventListener("click", async () => {
    stopped = true;
    xhr?.abort();
    if (uploadId) await api.request("DELETE", `/v1/uploads/${uploadId}`).catch(() => undefined);
    fail("Cancelled.", "cancelled");
  });
  row.dataset["state"] = "waiting";
  status.textContent = "Waiting to send…";
  /** Asks for an upload, waiting while the account has too many in progress. */
  const create = async (): Promise<Created | null> => {
    for (;;) {
      if (stopped) return null;
      try {
        return await api.post<Created>("/v1/uploads", {
          filename: file.name,
          contentType: file.type || guessType(file.name),
          size: file.size,
          visibility,
        });
      } catch (error) {
        if (!(error instanceof ApiProblem) || error.code !== "TOO_MANY_UPLOADS_IN_FLIGHT")
          throw error;
        status.textContent = `Waiting: ${error.message} It starts by itself.`;
        await new Promise((r) => setTimeout(r, IN_FLIGHT_RETRY_MS));
      }
    }
  };
  void (async () => {
    try {
      const sent = await sending(async () => {
        const created = await create();
        if (!created) return false;
        uploadId = created.uploadId;
        row.dataset["uploadId"] = uploadId;
        row.dataset["state"] = "awaiting_upload";
        status.textContent = "Uploading…";
        await put(created, file, (fraction) => (bar.value = Math.round(fraction * 100)));
        if (stopped) return false;
        await api.post(`/v1/uploads/${uploadId}/complete`);
        return true;
      });
      if (!sent) return;
      for (;;) {
        if (stopped) return;
        const u = await api.get<Upload>(`/v1/uploads/${uploadId}`);
        row.dataset["state"] = u.state;
        bar.value = u.state === "ready" ? 100 : u.progress.percent;
        // A retried job says which attempt this is, and why the last one did not finish.
        const retry =
          u.progress.attempt > 1 && u.state !== "failed"
            ? ` (attempt ${u.progress.attempt} of ${u.progress.maxAttempts}${u.failure ? `; last time: ${u.failure.reason}` : ""})`
            : "";
        status.textContent = `${STAGES.get(u.state) ?? u.state}${u.progress.stage && u.state === "processing" ? `: ${u.progress.stage}` : ""} ${u.state === "processing" ? `${u.progress.percent}%` : ""}${retry}`;
        if (u.state === "failed") return fail(`Failed: ${u.failure?.reason ?? "unknown reason"}`);
        if (u.state === "ready") {
          cancel.remove();
          status.replaceChildren(
            "Ready. ",
            u.duplicateOf ? "You already have this audio. " : "",
            h("a", { href: `#/library` }, "Open your library"),
          );
          app.toast(`${file.name} is ready.`);
          return;
        }
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    } catch (error) {
      if (!stopped) fail(describeError(error));
    }
  })();

  /** The PUT goes straight to storage, so XMLHttpRequest: fetch cannot report upload progress. */
  function put(created: Created, body: File, onProgress: (f: number) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      xhr = new XMLHttpRequest();
      xhr.open("PUT", created.putUrl);
      for (const [name, value] of Object.entries(created.headers)) {
        if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
      }
      xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
      xhr.onload = () =>
        xhr && xhr.status < 300
          ? resolve()
          : reject(new Error(`Storage refused the file (${xhr?.status ?? 0}).`));
      xhr.onerror = () => reject(new Error("The upload was interrupted. Check your connection."));
      xhr.send(body);
    });
  }
  return row;
}

function guessType(name: string): string {
  const ext = name.split(".").pop()?.toLowerCase() ?? "";
  return TYPES_BY_EXTENSION.get(ext) ?? "application/octet-stream";
}
