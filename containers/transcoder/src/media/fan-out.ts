import type { Readable, Writable } from "node:stream";

/**
 * Copies one stream to several consumers. Each consumer may fall up to `slackBytes` behind
 * before the source pauses, so encoders of different speeds do not run in lockstep (plain
 * `pipe()` stalls everyone at 16 KB), while memory stays bounded at slack x consumers.
 */
export function fanOut(source: Readable, consumers: Writable[], slackBytes: number): void {
  let waiting = 0;
  const resumeWhenDrained = (consumer: Writable) => {
    waiting++;
    consumer.once("drain", () => {
      if (--waiting === 0) source.resume();
    });
  };
  source.on("data", (chunk: Buffer) => {
    for (const consumer of consumers) {
      if (consumer.destroyed || consumer.writableEnded) continue;
      consumer.write(chunk);
    }
    const behind = consumers.filter((c) => !c.destroyed && c.writableLength > slackBytes);
    if (behind.length > 0) {
      source.pause();
      behind.forEach(resumeWhenDrained);
    }
  });
  source.once("end", () => {
    for (const consumer of consumers) if (!consumer.destroyed) consumer.end();
  });
}
