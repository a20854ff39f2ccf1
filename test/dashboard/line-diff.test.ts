/**
 * The Wizard's line diff (dashboard/src/screens/wizard/line-diff.ts), pure: examples of each kind of edit, line
 * numbers, the folding of unchanged stretches, and properties over random texts: a diff rebuilds both sides, and
 * keeps as many lines unchanged as the longest common subsequence (it is a shortest edit).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type DiffLine,
  diffLines,
  splitLines,
  summarize,
  withContext,
} from "../../dashboard/src/screens/wizard/line-diff";

const compact = (diff: DiffLine[]) =>
  diff.map((l) => (l.kind === "same" ? ` ${l.text}` : l.kind === "added" ? `+${l.text}` : `-${l.text}`));

/** The longest common subsequence's length, by dynamic programming (the reference for small inputs). */
function lcs(a: string[], b: string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] as number;
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(up, row[j - 1] as number);
      diagonal = up;
    }
  }
  return row[b.length] as number;
}

describe("splitLines", () => {
  it("reads \\r\\n and \\r as \\n and gives a final newline no empty line", () => {
    expect(splitLines("")).toEqual([]);
    expect(splitLines("a\r\nb\rc\n")).toEqual(["a", "b", "c"]);
    expect(splitLines("a\n\n")).toEqual(["a", ""]);
  });
});

describe("diffLines", () => {
  it("identical texts: every line unchanged, numbered on both sides", () => {
    const diff = diffLines("a\nb\n", "a\nb");
    expect(diff).toEqual([
      { kind: "same", text: "a", oldLine: 1, newLine: 1 },
      { kind: "same", text: "b", oldLine: 2, newLine: 2 },
    ]);
    expect(summarize(diff)).toEqual({ added: 0, removed: 0, unchanged: 2 });
  });

  it("from or to nothing: all added, all removed", () => {
    expect(compact(diffLines("", "x\ny"))).toEqual(["+x", "+y"]);
    expect(compact(diffLines("x\ny", ""))).toEqual(["-x", "-y"]);
    expect(diffLines("", "")).toEqual([]);
  });

  it("a changed line is removed then added, between unchanged ones", () => {
    const diff = diffLines("name: a\nrole: old\nllm: x\n", "name: a\nrole: new\nllm: x\n");
    expect(compact(diff)).toEqual([" name: a", "-role: old", "+role: new", " llm: x"]);
    expect(diff[1]).toEqual({ kind: "removed", text: "role: old", oldLine: 2 });
    expect(diff[2]).toEqual({ kind: "added", text: "role: new", newLine: 2 });
    expect(diff[3]).toEqual({ kind: "same", text: "llm: x", oldLine: 3, newLine: 3 });
  });

  it("insertions and deletions in the middle keep the line numbers of each side", () => {
    const diff = diffLines("a\nb\nc\nd", "a\nx\nb\nd\ne");
    expect(compact(diff)).toEqual([" a", "+x", " b", "-c", " d", "+e"]);
    expect(diff.filter((l) => l.kind === "same").map((l) => [l.oldLine, l.newLine])).toEqual([
      [1, 1],
      [2, 3],
      [4, 4],
    ]);
  });

  it("past the edit limit, the middle is removed then added whole", () => {
    const diff = diffLines("same\na\nb\nc\nend", "same\nx\ny\nz\nend", 2);
    expect(compact(diff)).toEqual([" same", "-a", "-b", "-c", "+x", "+y", "+z", " end"]);
  });

  const lines = fc.array(fc.constantFrom("a", "b", "c", "d", ""), { maxLength: 30 });
  it("rebuilds both sides, and is a shortest edit (as many unchanged lines as the LCS)", () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const diff = diffLines(a.join("\n"), b.join("\n"));
        const before = splitLines(a.join("\n"));
        const after = splitLines(b.join("\n"));
        expect(diff.filter((l) => l.kind !== "added").map((l) => l.text)).toEqual(before);
        expect(diff.filter((l) => l.kind !== "removed").map((l) => l.text)).toEqual(after);
        expect(summarize(diff).unchanged).toBe(lcs(before, after));
        // Each side's numbers run 1, 2, 3, … in order.
        const olds = diff.flatMap((l) => (l.kind === "added" ? [] : [l.oldLine]));
        const news = diff.flatMap((l) => (l.kind === "removed" ? [] : [l.newLine]));
        expect(olds).toEqual(before.map((_, i) => i + 1));
        expect(news).toEqual(after.map((_, i) => i + 1));
      }),
      { numRuns: 300 },
    );
  });

  it("a one-line edit of a long manifest stays cheap and exact", () => {
    const long = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
    const edited = [...long];
    edited[2500] = "changed";
    const diff = diffLines(long.join("\n"), edited.join("\n"));
    expect(summarize(diff)).toEqual({ added: 1, removed: 1, unchanged: 4999 });
  });
});

describe("withContext", () => {
  const before = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join("\n");
  const after = before.replace("l10", "ten");

  it("shows each change with 3 unchanged lines around it and folds the rest", () => {
    const rows = withContext(diffLines(before, after));
    expect(rows[0]).toEqual({ kind: "skipped", count: 6, oldLine: 1, newLine: 1 });
    expect(rows.slice(1, 4).map((r) => (r.kind === "same" ? r.text : r.kind))).toEqual(["l7", "l8", "l9"]);
    expect(rows.slice(4, 6).map((r) => r.kind)).toEqual(["removed", "added"]);
    expect(rows.at(-1)).toEqual({ kind: "skipped", count: 7, oldLine: 14, newLine: 14 });
    expect(rows).toHaveLength(10);
  });

  it("no changes: one folded row; context 0: only the changes", () => {
    expect(withContext(diffLines(before, before))).toEqual([{ kind: "skipped", count: 20, oldLine: 1, newLine: 1 }]);
    expect(withContext(diffLines(before, after), 0).filter((r) => r.kind !== "skipped")).toHaveLength(2);
  });
});
