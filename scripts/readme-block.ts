/**
 * Replaces a generated block of a Markdown page, between `<!-- NAME:start -->`
 * and `<!-- NAME:end -->`: the reports scripts write into their docs pages
 * (`npm run bench -- --docs`, `npm run soak -- --docs`, `npm run sim:leases -- --docs`).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes `content` between the block's markers in `file`; throws when it has no such block. */
export function replaceDocBlock(file: string, name: string, content: string): void {
  const [startMark, endMark] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const text = readFileSync(file, "utf8");
  const start = text.indexOf(startMark);
  const end = text.indexOf(endMark);
  if (start === -1 || end < start) throw new Error(`${path.basename(file)} has no ${startMark} … ${endMark} block`);
  writeFileSync(file, `${text.slice(0, start + startMark.length)}\n${content.trimEnd()}\n${text.slice(end)}`);
}
