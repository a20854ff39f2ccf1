/**
 * Replaces a generated block of README.md, between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` (`npm run bench -- --readme`, `npm run soak -- --readme`).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Writes `content` between the block's markers; throws when README.md has no such block. */
export function replaceReadmeBlock(root: string, name: string, content: string): void {
  const readme = path.join(root, "README.md");
  const [startMark, endMark] = [`<!-- ${name}:start -->`, `<!-- ${name}:end -->`];
  const text = readFileSync(readme, "utf8");
  const start = text.indexOf(startMark);
  const end = text.indexOf(endMark);
  if (start === -1 || end < start) throw new Error(`README.md has no ${startMark} … ${endMark} block`);
  writeFileSync(readme, `${text.slice(0, start + startMark.length)}\n${content.trimEnd()}\n${text.slice(end)}`);
}
