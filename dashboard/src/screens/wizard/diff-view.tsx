/**
 * A line diff shown as a table: each row's line numbers (served version, upload), a +/− marker and the text, with
 * long unchanged stretches folded into one "n unchanged lines" row. Colour is never the only cue: removed and added
 * rows carry a sign and a visually hidden word, for screen readers. Wraps instead of scrolling at 390 px.
 */
import type { DiffRow } from "./line-diff";

/** Props of {@link DiffView}. */
export interface DiffViewProps {
  rows: readonly DiffRow[];
  /** What the table is (its caption), e.g. "Version 3 → this manifest". */
  caption: string;
}

const SIGN = { same: " ", removed: "−", added: "+" } as const;
const SPOKEN = { same: "", removed: "removed: ", added: "added: " } as const;

/** The table. */
export function DiffView({ rows, caption }: DiffViewProps) {
  return (
    <div class="diff-wrap">
      <table class="diff" data-testid="manifest-diff">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Served</th>
            <th scope="col">New</th>
            <th scope="col">
              <span class="visually-hidden">Change and line</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, n) =>
            r.kind === "skipped" ? (
              <tr key={n} class="diff__skipped">
                <td colSpan={3}>
                  … {r.count} unchanged line{r.count === 1 ? "" : "s"} ({r.oldLine}–{r.oldLine + r.count - 1}) …
                </td>
              </tr>
            ) : (
              <tr key={n} class={`diff__${r.kind}`}>
                <td class="diff__num">{r.kind !== "added" ? r.oldLine : ""}</td>
                <td class="diff__num">{r.kind !== "removed" ? r.newLine : ""}</td>
                <td class="diff__text">
                  <span aria-hidden="true" class="diff__sign">
                    {SIGN[r.kind]}
                  </span>
                  {SPOKEN[r.kind] ? <span class="visually-hidden">{SPOKEN[r.kind]}</span> : null}
                  <code>{r.text || " "}</code>
                </td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}
