/**
 * Turns a cbcs-encrypted fragmented MP4 (as Shaka Packager writes our renditions) back into a
 * clear one, as a stream: for Premium downloads, which must play as ordinary files. Box sizes
 * never change, so offsets and the file's length stay the same: the encrypted sample entry
 * (`enca`) takes back its original format, and the protection boxes (`sinf`, `senc`, `saiz`,
 * `saio`, `pssh`) become `free` boxes of the same size. Memory holds one fragment at a time.
 */
import { hexToBytes } from "./bytes.js";

export class CbcsDecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CbcsDecryptError";
  }
}

type Box = { type: string; start: number; size: number; header: number };
/** WebCrypto's key type, named so in both the workers' and Node's type libraries. */
type AesKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const text = (bytes: Uint8Array, at: number) =>
  String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
const u32 = (bytes: Uint8Array, at: number) =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at);
const setType = (bytes: Uint8Array, at: number, type: string) => {
  for (let i = 0; i < 4; i++) bytes[at + 4 + i] = type.charCodeAt(i);
};

/** The boxes in `bytes[from, to)`. */
function boxes(bytes: Uint8Array, from: number, to: number): Box[] {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = u32(bytes, at);
    let header = 8;
    if (size === 1) {
      size = Number(
        new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(at + 8),
      );
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) throw new CbcsDecryptError(`corrupt box at ${at}`);
    out.push({ type: text(bytes, at + 4), start: at, size, header });
    at += size;
  }
  return out;
}

const child = (bytes: Uint8Array, parent: Box, type: string, skip = 0) =>
  boxes(bytes, parent.start + parent.header + skip, parent.start + parent.size).find(
    (b) => b.type === type,
  );

/** How a track is encrypted, from its `tenc`. */
type TrackEncryption = { perSampleIvSize: number; constantIv: Uint8Array | null };

/**
 * Rewrites an init segment (ftyp/moov) in place: the sample entry gets its original format
 * back and `sinf` becomes `free`. Returns the track's encryption, or null when it is clear.
 */
function clearInit(moovBytes: Uint8Array): TrackEncryption | null {
  const moov = boxes(moovBytes, 0, moovBytes.length)[0];
  if (!moov) throw new CbcsDecryptError("no moov");
  let found: TrackEncryption | null = null;
  for (const b of boxes(moovBytes, moov.start + moov.header, moov.start + moov.size)) {
    if (b.type === "pssh") setType(moovBytes, b.start, "free");
    if (b.type !== "trak") continue;
    const path = ["mdia", "minf", "stbl", "stsd"];
    let at: Box | undefined = b;
    for (const type of path) at = at && child(moovBytes, at, type);
    if (!at) continue;
    // stsd: version/flags and entry count, then the sample entries.
    for (const entry of boxes(moovBytes, at.start + at.header + 8, at.start + at.size)) {
      if (entry.type !== "enca") continue;
      // An audio sample entry's fields take 28 bytes before its child boxes.
      const sinf = child(moovBytes, entry, "sinf", 28);
      const frma = sinf && child(moovBytes, sinf, "frma");
      const schm = sinf && child(moovBytes, sinf, "schm");
      const schi = sinf && child(moovBytes, sinf, "schi");
      const tenc = schi && child(moovBytes, schi, "tenc");
      if (!sinf || !frma || !schm || !tenc) throw new CbcsDecryptError("incomplete sinf");
      const scheme = text(moovBytes, schm.start + schm.header + 4);
      if (scheme !== "cbcs") throw new CbcsDecryptError(`scheme ${scheme} is not cbcs`);
      const t = tenc.start + tenc.header;
      const version = moovBytes[t] ?? 0;
      const pattern = version > 0 ? (moovBytes[t + 5] ?? 0) : 0;
      if (pattern !== 0) throw new CbcsDecryptError("pattern encryption is not for audio");
      const perSampleIvSize = moovBytes[t + 7] ?? 0;
      let constantIv: Uint8Array | null = null;
      if (perSampleIvSize === 0) {
        const ivSize = moovBytes[t + 24] ?? 0;
        constantIv = moovBytes.slice(t + 25, t + 25 + ivSize);
        if (constantIv.length !== 8 && constantIv.length !== 16)
          throw new CbcsDecryptError("no constant IV");
      }
      // The original format back on the entry; the protection description becomes free space.
      moovBytes.copyWithin(entry.start + 4, frma.start + frma.header, frma.start + frma.header + 4);
      setType(moovBytes, sinf.start, "free");
      found = { perSampleIvSize, constantIv };
    }
  }
  return found;
}

/** A 16-byte IV (8-byte IVs are zero-padded, as CENC says). */
const iv16 = (iv: Uint8Array) => {
  const out = new Uint8Array(16);
  out.set(iv.subarray(0, 16));
  return out;
};

/**
 * AES-CBC decryption of whole blocks with no padding, which WebCrypto lacks: an extra block
 * that decrypts to a full PKCS#7 padding block is appended, then dropped with the padding.
 */
async function cbcDecryptNoPadding(
  key: AesKey,
  iv: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const last = data.length >= 16 ? data.subarray(data.length - 16) : iv;
  const padding = new Uint8Array(16).fill(16);
  const extra = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv: last }, key, padding),
  ).subarray(0, 16);
  const withExtra = new Uint8Array(data.length + 16);
  withExtra.set(data);
  withExtra.set(extra, data.length);
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-CBC", iv }, key, withExtra));
}

/** Decrypts the samples of one moof+mdat pair in place and frees its protection boxes. */
async function clearFragment(
  bytes: Uint8Array,
  moof: Box,
  encryption: TrackEncryption,
  key: AesKey,
): Promise<void> {
  const traf = child(bytes, moof, "traf");
  const tfhd = traf && child(bytes, traf, "tfhd");
  const trun = traf && child(bytes, traf, "trun");
  const senc = traf && child(bytes, traf, "senc");
  if (!traf || !tfhd || !trun) throw new CbcsDecryptError("fragment without tfhd/trun");
  // Sample sizes: per sample in trun, or tfhd's default.
  const tfhdFlags = u32(bytes, tfhd.start + tfhd.header) & 0xffffff;
  let f = tfhd.start + tfhd.header + 8;
  if (tfhdFlags & 0x1) f += 8;
  if (tfhdFlags & 0x2) f += 4;
  if (tfhdFlags & 0x8) f += 4;
  const defaultSize = tfhdFlags & 0x10 ? u32(bytes, f) : 0;
  const trunFlags = u32(bytes, trun.start + trun.header) & 0xffffff;
  const count = u32(bytes, trun.start + trun.header + 4);
  let r = trun.start + trun.header + 8;
  // Samples start at the data offset from the moof (default-base-is-moof, as CMAF requires).
  const dataOffset = trunFlags & 0x1 ? u32(bytes, r) | 0 : 0;
  if (trunFlags & 0x1) r += 4;
  if (trunFlags & 0x4) r += 4;
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    if (trunFlags & 0x100) r += 4;
    if (trunFlags & 0x200) {
      sizes.push(u32(bytes, r));
      r += 4;
    } else sizes.push(defaultSize);
    if (trunFlags & 0x400) r += 4;
    if (trunFlags & 0x800) r += 4;
  }
  // Per-sample IVs and subsamples from senc, when there are any.
  const ivs: Uint8Array[] = [];
  const subsamples: { clear: number; protected: number }[][] = [];
  if (senc) {
    const flags = u32(bytes, senc.start + senc.header) & 0xffffff;
    let s = senc.start + senc.header + 8;
    for (let i = 0; i < u32(bytes, senc.start + senc.header + 4); i++) {
      if (encryption.perSampleIvSize) {
        ivs.push(bytes.slice(s, s + encryption.perSampleIvSize));
        s += encryption.perSampleIvSize;
      }
      const parts: { clear: number; protected: number }[] = [];
      if (flags & 0x2) {
        const n = ((bytes[s] ?? 0) << 8) | (bytes[s + 1] ?? 0);
        s += 2;
        for (let j = 0; j < n; j++) {
          parts.push({
            clear: ((bytes[s] ?? 0) << 8) | (bytes[s + 1] ?? 0),
            protected: u32(bytes, s + 2),
          });
          s += 6;
        }
      }
      subsamples.push(parts);
    }
  }
  // Every sample's encrypted whole blocks, gathered so one decryption call covers the fragment.
  type Run = { at: number; length: number };
  const perSample: { runs: Run[]; iv: Uint8Array }[] = [];
  let at = moof.start + dataOffset;
  let total = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] ?? 0;
    const iv = iv16(encryption.constantIv ?? ivs[i] ?? new Uint8Array(16));
    const parts = subsamples[i]?.length ? subsamples[i] : [{ clear: 0, protected: size }];
    const runs: Run[] = [];
    let p = at;
    let protectedBytes = 0;
    for (const part of parts ?? []) {
      p += part.clear;
      runs.push({ at: p, length: part.protected });
      protectedBytes += part.protected;
      p += part.protected;
    }
    // cbcs leaves a sample's last partial block in the clear.
    let keep = protectedBytes - (protectedBytes % 16);
    const whole: Run[] = [];
    for (const run of runs) {
      const length = Math.min(run.length, keep);
      if (length > 0) whole.push({ at: run.at, length });
      keep -= length;
    }
    perSample.push({ runs: whole, iv });
    total += whole.reduce((sum, w) => sum + w.length, 0);
    at += size;
  }
  if (at > bytes.length) throw new CbcsDecryptError("samples run past the fragment");
  if (total > 0) {
    const cipher = new Uint8Array(total);
    let c = 0;
    for (const { runs } of perSample) {
      for (const run of runs) {
        cipher.set(bytes.subarray(run.at, run.at + run.length), c);
        c += run.length;
      }
    }
    const first = perSample.find((s) => s.runs.length)?.iv ?? new Uint8Array(16);
    const plain = await cbcDecryptNoPadding(key, first, cipher);
    // Each sample restarts its chain from its own IV: its first block is fixed up.
    c = 0;
    for (const { runs, iv } of perSample) {
      const length = runs.reduce((sum, w) => sum + w.length, 0);
      if (length === 0) continue;
      if (c > 0) {
        for (let k = 0; k < 16; k++) {
          plain[c + k] = (plain[c + k] ?? 0) ^ (cipher[c - 16 + k] ?? 0) ^ (iv[k] ?? 0);
        }
      }
      let o = c;
      for (const run of runs) {
        bytes.set(plain.subarray(o, o + run.length), run.at);
        o += run.length;
      }
      c += length;
    }
  }
  for (const type of ["senc", "saiz", "saio", "sbgp", "sgpd"]) {
    for (const b of boxes(bytes, traf.start + traf.header, traf.start + traf.size)) {
      if (b.type === type) setType(bytes, b.start, "free");
    }
  }
}

/**
 * A stream that decrypts a cbcs fMP4 read from `source` with `keyHex`, writing boxes of the
 * same sizes (the output has the input's length). Clear input passes through unchanged.
 */
export function decryptCbcsStream(
  source: ReadableStream<Uint8Array>,
  keyHex: string,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let buffer = new Uint8Array(0);
  let done = false;
  let encryption: TrackEncryption | null = null;
  let key: AesKey | null = null;
  /** Reads until `bytes` bytes are buffered (fewer at the end of the source). */
  const fill = async (bytes: number) => {
    while (buffer.length < bytes && !done) {
      const next = await reader.read();
      if (next.done) done = true;
      else {
        const joined = new Uint8Array(buffer.length + next.value.length);
        joined.set(buffer);
        joined.set(next.value, buffer.length);
        buffer = joined;
      }
    }
  };
  /** The size of the box at `at` in the buffer (reading its header first). */
  const sizeAt = async (at: number) => {
    await fill(at + 16);
    if (buffer.length < at + 8) return null;
    const size = u32(buffer, at);
    if (size === 1) {
      return Number(
        new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).getBigUint64(at + 8),
      );
    }
    if (size === 0 || size < 8) throw new CbcsDecryptError("unsupported box size");
    return size;
  };
  const take = (n: number) => {
    const out = buffer.slice(0, n);
    buffer = buffer.subarray(n);
    return out;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const size = await sizeAt(0);
      if (size === null) {
        if (buffer.length) throw new CbcsDecryptError("trailing bytes");
        controller.close();
        return;
      }
      const type = text(buffer, 4);
      if (type === "moof" && encryption) {
        // The fragment: moof and its mdat, decrypted together.
        const mdatSize = await sizeAt(size);
        if (mdatSize === null || text(buffer, size + 4) !== "mdat")
          throw new CbcsDecryptError("moof without mdat");
        await fill(size + mdatSize);
        if (buffer.length < size + mdatSize) throw new CbcsDecryptError("file cut short");
        const fragment = take(size + mdatSize);
        key ??= await crypto.subtle.importKey("raw", hexToBytes(keyHex), "AES-CBC", false, [
          "encrypt",
          "decrypt",
        ]);
        await clearFragment(fragment, { type, start: 0, size, header: 8 }, encryption, key);
        controller.enqueue(fragment);
        return;
      }
      await fill(size);
      if (buffer.length < size) throw new CbcsDecryptError("file cut short");
      const box = take(size);
      if (type === "moov") encryption = clearInit(box);
      controller.enqueue(box);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
