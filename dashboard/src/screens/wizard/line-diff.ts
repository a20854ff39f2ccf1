/**
 * A line diff of two manifests, for the Wizard's review before a deploy: which lines of the version being served
 * are removed and which of the upload are added. Myers' O((N+M)·D) algorithm on the lines between the common prefix
 * and suffix, so the usual small edit of a long manifest costs little; it finds a shortest edit (the most unchanged
 * lines). Past {@link MAX_EDITS} edits the middle is shown as removed, then added, whole. Pure: no DOM, no I/O.
 */

/** One line of a diff, with its 1-based number in the text(s) it belongs to. */
export type DiffLine =
  | { kind: "same"; text: string; oldLine: number; newLine: number }
  | { kind: "removed"; text: string; oldLine: number }
  | { kind: "added"; text: string; newLine: number };

/** A row to show: a line, or a run of unchanged lines left out (`count` of them, from `oldLine`/`newLine`). */
export type DiffRow = DiffLine | { kind: "skipped"; count: number; oldLine: number; newLine: number };

/** How many lines each side lost and gained, and kept. */
export interface DiffSummary {
  added: number;
  removed: number;
  unchanged: number;
}

/** Beyond this many inserted plus deleted lines, the differing middle is not aligned line by line. */
export const MAX_EDITS = 2000;

/** The lines of `text`: `\r\n` and `\r` read as `\n`, and no empty last line for a final newline. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

type Op = "same" | "removed" | "added";

/** Myers' shortest edit script of `a` into `b`, as one op per line, or undefined past `maxEdits`. */
function shortestEdit(a: readonly string[], b: readonly string[], maxEdits: number): Op[] | undefined {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d]: the furthest x on each diagonal k ∈ [-d-1, d+1] before step d (index k + d + 1).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= Math.min(max, maxEdits); d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] as number) < (v[offset + k + 1] as number));
      let x = down ? (v[offset + k + 1] as number) : (v[offset + k - 1] as number) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, n, m);
    }
  }
  return undefined;
}

function backtrack(trace: readonly Int32Array[], n: number, m: number): Op[] {
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d > 0; d--) {
    const w = trace[d] as Int32Array;
    const at = (k: number) => w[k + d + 1] as number;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    for (; x > prevX && y > prevY; x--, y--) ops.push("same");
    ops.push(x === prevX ? "added" : "removed");
    x = prevX;
    y = prevY;
  }
  for (; x > 0 && y > 0; x--, y--) ops.push("same");
  return ops.reverse();
}

/** The line diff of `before` into `after`. */
export function diffLines(before: string, after: string, maxEdits = MAX_EDITS): DiffLine[] {
  const a = splitLines(before);
  const b = splitLines(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const ops = shortestEdit(midA, midB, maxEdits) ?? [...midA.map((): Op => "removed"), ...midB.map((): Op => "added")];
  const out: DiffLine[] = [];
  for (let i = 0; i < start; i++) out.push({ kind: "same", text: a[i] as string, oldLine: i + 1, newLine: i + 1 });
  let i = start;
  let j = start;
  for (const op of ops) {
    if (op === "same") out.push({ kind: "same", text: a[i] as string, oldLine: ++i, newLine: ++j });
    else if (op === "removed") out.push({ kind: "removed", text: a[i] as string, oldLine: ++i });
    else out.push({ kind: "added", text: b[j] as string, newLine: ++j });
  }
  for (; i < a.length; i++, j++) out.push({ kind: "same", text: a[i] as string, oldLine: i + 1, newLine: j + 1 });
  return out;
}

/** Counts of a diff's lines. */
export function summarize(diff: readonly DiffLine[]): DiffSummary {
  const summary: DiffSummary = { added: 0, removed: 0, unchanged: 0 };
  for (const line of diff) {
    if (line.kind === "added") summary.added++;
    else if (line.kind === "removed") summary.removed++;
    else summary.unchanged++;
  }
  return summary;
}

/** The rows to show: every change with `context` unchanged lines around it; longer unchanged runs are skipped. */
export function withContext(diff: readonly DiffLine[], context = 3): DiffRow[] {
  const keep = diff.map((l) => l.kind !== "same");
  diff.forEach((l, i) => {
    if (l.kind === "same") return;
    for (let j = Math.max(0, i - context); j <= Math.min(diff.length - 1, i + context); j++) keep[j] = true;
  });
  const rows: DiffRow[] = [];
  for (let i = 0; i < diff.length;) {
    if (keep[i]) {
      rows.push(diff[i] as DiffLine);
      i++;
      continue;
    }
    const first = diff[i] as Extract<DiffLine, { kind: "same" }>;
    let count = 0;
    while (i < diff.length && !keep[i]) {
      i++;
      count++;
    }
    rows.push({ kind: "skipped", count, oldLine: first.oldLine, newLine: first.newLine });
  }
  return rows;
}
