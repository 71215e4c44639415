import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ASSET_FILES,
  FRAGMENT_SECONDS,
  renditionById,
  type Rendition,
} from "@edge-music/core/renditions";
import type { RepackageJobRequest } from "@edge-music/core/transcode-contract";
import { download, fail, jobTimeLimitMs, storeOutputs, type Emit } from "./job.js";
import { log } from "./log.js";
import { ENCRYPTION_FAILED } from "./media/failures.js";
import { encryptInPlace } from "./media/packager.js";
import { writeManifests } from "./media/packaging.js";

/**
 * Re-packages a published asset version: fetches its clear rendition files, encrypts them
 * (cbcs, one packager run, no decoding), writes playlists and the MPD with key signalling and
 * stores it all under the new version's URLs. The waveform and cover are the api's to copy.
 */
export async function runRepackage(
  job: RepackageJobRequest,
  emit: Emit,
  signal: AbortSignal = new AbortController().signal,
): Promise<void> {
  const work = await mkdtemp(path.join(tmpdir(), `repack-${job.jobId.replace(/[^\w-]/g, "")}-`));
  // Downloading and packaging four files: the limit of a short transcode is ample.
  const stop = AbortSignal.any([signal, AbortSignal.timeout(jobTimeLimitMs(0))]);
  const started = Date.now();
  try {
    const out = path.join(work, "out");
    const renditions: Rendition[] = [];
    for (const source of job.renditions) {
      const rendition = renditionById(source.id);
      if (!rendition) return emit(fail("UNREADABLE", `No rendition ${source.id}.`, false));
      renditions.push(rendition);
      await mkdir(path.join(out, rendition.id), { recursive: true });
      const failure = await download(
        source.url,
        source.sizeBytes,
        path.join(out, ASSET_FILES.media(rendition.id)),
        emit,
        stop,
      );
      if (failure) return emit(failure);
    }
    emit({ type: "progress", stage: "packaging", percent: 0 });
    const encrypted = await encryptInPlace(
      renditions.map((r) => path.join(out, ASSET_FILES.media(r.id))),
      job.protection,
      work,
      FRAGMENT_SECONDS,
      stop,
    );
    if (!encrypted.ok) {
      log("warn", "repackage failed", {
        jobId: job.jobId,
        kind: encrypted.kind,
        ...("stderrTail" in encrypted ? { stderrTail: encrypted.stderrTail.slice(-500) } : {}),
      });
      return emit(ENCRYPTION_FAILED);
    }
    const protection = { scheme: "cbcs" as const, keyId: job.protection.keyId };
    const written = await writeManifests(out, renditions, null, protection);
    const storeFailure = await storeOutputs(written.files, job.outputs, out, emit, stop);
    if (storeFailure) return emit(storeFailure);
    log("info", "repackage done", { jobId: job.jobId, seconds: (Date.now() - started) / 1000 });
    emit({
      type: "repackaged",
      result: {
        renditions: written.renditions,
        protection,
        files: written.files.map((f) => f.name),
      },
    });
  } catch (error) {
    if (signal.aborted) throw error;
    if (!stop.aborted) throw error;
    emit(fail("TIMED_OUT", "Re-packaging took longer than its time limit.", true));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
