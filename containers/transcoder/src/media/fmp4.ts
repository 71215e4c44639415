/**
 * Reads the layout of a fragmented MP4 (ftyp, moov, then moof+mdat pairs) so playlists can
 * address the init segment and each fragment by byte range. Reads box headers only.
 */
import { open } from "node:fs/promises";

export type ByteRange = { offset: number; length: number };
export type Fragment = ByteRange & { startSeconds: number; durationSeconds: number };
export type Fmp4Layout = {
  init: ByteRange;
  fragments: Fragment[];
  timescale: number;
  durationSeconds: number;
  sizeBytes: number;
};

type Box = { type: string; offset: number; size: number; headerSize: number };

async function readBoxes(
  read: (offset: number, length: number) => Promise<Buffer>,
  start: number,
  end: number,
): Promise<Box[]> {
  const boxes: Box[] = [];
  let offset = start;
  while (offset + 8 <= end) {
    const header = await read(offset, 16);
    let size = header.readUInt32BE(0);
    const type = header.toString("latin1", 4, 8);
    let headerSize = 8;
    if (size === 1) {
      size = Number(header.readBigUInt64BE(8));
      headerSize = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < headerSize || offset + size > end)
      throw new Error(`corrupt box ${type} at ${offset}`);
    boxes.push({ type, offset, size, headerSize });
    offset += size;
  }
  return boxes;
}

async function child(
  read: (offset: number, length: number) => Promise<Buffer>,
  parent: Box,
  path: string[],
): Promise<Box | undefined> {
  let current: Box | undefined = parent;
  for (const type of path) {
    if (!current) return undefined;
    const inner: Box[] = await readBoxes(
      read,
      current.offset + current.headerSize,
      current.offset + current.size,
    );
    current = inner.find((b) => b.type === type);
  }
  return current;
}

/** Parses the fMP4 at `path`. */
export async function readFmp4Layout(path: string): Promise<Fmp4Layout> {
  const file = await open(path, "r");
  try {
    const { size: sizeBytes } = await file.stat();
    const read = async (offset: number, length: number) => {
      const buffer = Buffer.alloc(Math.min(length, sizeBytes - offset));
      await file.read(buffer, 0, buffer.length, offset);
      return buffer;
    };
    const top = await readBoxes(read, 0, sizeBytes);
    const moov = top.find((b) => b.type === "moov");
    if (!moov) throw new Error("no moov box");
    const mdhd = await child(read, moov, ["trak", "mdia", "mdhd"]);
    if (!mdhd) throw new Error("no mdhd box");
    const mdhdBody = await read(mdhd.offset + mdhd.headerSize, 32);
    const version = mdhdBody.readUInt8(0);
    // version 0: 4-byte creation and modification times; version 1: 8-byte.
    const timescale = mdhdBody.readUInt32BE(version === 1 ? 20 : 12);

    const starts: { moof: Box; mdat: Box; decodeTime: number }[] = [];
    for (let i = 0; i < top.length; i++) {
      const box = top[i];
      const next = top[i + 1];
      if (box?.type !== "moof") continue;
      if (next?.type !== "mdat") throw new Error(`moof at ${box.offset} is not followed by mdat`);
      const tfdt = await child(read, box, ["traf", "tfdt"]);
      if (!tfdt) throw new Error(`no tfdt in moof at ${box.offset}`);
      const body = await read(tfdt.offset + tfdt.headerSize, 12);
      const decodeTime =
        body.readUInt8(0) === 1 ? Number(body.readBigUInt64BE(4)) : body.readUInt32BE(4);
      starts.push({ moof: box, mdat: next, decodeTime });
    }
    const mvex = await child(read, moov, ["mvex", "mehd"]);
    let totalUnits: number;
    if (mvex) {
      const body = await read(mvex.offset + mvex.headerSize, 12);
      totalUnits = body.readUInt8(0) === 1 ? Number(body.readBigUInt64BE(4)) : body.readUInt32BE(4);
    } else {
      totalUnits = await lastFragmentEnd(read, starts.at(-1));
    }
    const fragments: Fragment[] = starts.map((s, i) => {
      const nextStart = starts[i + 1]?.decodeTime ?? totalUnits;
      return {
        offset: s.moof.offset,
        length: s.moof.size + s.mdat.size,
        startSeconds: s.decodeTime / timescale,
        durationSeconds: (nextStart - s.decodeTime) / timescale,
      };
    });
    const firstFragment = fragments[0];
    return {
      init: { offset: 0, length: firstFragment ? firstFragment.offset : moov.offset + moov.size },
      fragments,
      timescale,
      durationSeconds: totalUnits / timescale,
      sizeBytes,
    };
  } finally {
    await file.close();
  }
}

/** End of the last fragment in timescale units, from its trun sample durations. */
async function lastFragmentEnd(
  read: (offset: number, length: number) => Promise<Buffer>,
  last: { moof: Box; decodeTime: number } | undefined,
): Promise<number> {
  if (!last) return 0;
  const traf = await child(read, last.moof, ["traf"]);
  const tfhd = traf && (await child(read, last.moof, ["traf", "tfhd"]));
  const trun = traf && (await child(read, last.moof, ["traf", "trun"]));
  if (!tfhd || !trun) throw new Error("fragment without tfhd/trun");
  const tfhdBody = await read(tfhd.offset + tfhd.headerSize, tfhd.size - tfhd.headerSize);
  const tfhdFlags = tfhdBody.readUInt32BE(0) & 0xffffff;
  let cursor = 8; // version+flags, track id
  if (tfhdFlags & 0x1) cursor += 8;
  if (tfhdFlags & 0x2) cursor += 4;
  const defaultDuration = tfhdFlags & 0x8 ? tfhdBody.readUInt32BE(cursor) : 0;
  const trunBody = await read(trun.offset + trun.headerSize, trun.size - trun.headerSize);
  const flags = trunBody.readUInt32BE(0) & 0xffffff;
  const count = trunBody.readUInt32BE(4);
  let at = 8;
  if (flags & 0x1) at += 4;
  if (flags & 0x4) at += 4;
  let total = 0;
  for (let i = 0; i < count; i++) {
    if (flags & 0x100) {
      total += trunBody.readUInt32BE(at);
      at += 4;
    } else total += defaultDuration;
    if (flags & 0x200) at += 4;
    if (flags & 0x400) at += 4;
    if (flags & 0x800) at += 4;
  }
  return last.decodeTime + total;
}
