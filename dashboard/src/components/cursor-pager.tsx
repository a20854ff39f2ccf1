/**
 * Newer / Older buttons over a cursor-paged list (the request log, the runs): `cursors` is the stack of
 * cursors that led to the page shown (empty on the first page), `next` the page's `next_cursor`.
 */
export interface CursorPagerProps {
  cursors: string[];
  next: string | null | undefined;
  onChange: (cursors: string[]) => void;
}

export function CursorPager({ cursors, next, onChange }: CursorPagerProps) {
  return (
    <div class="pager">
      <button
        type="button"
        class="button button--quiet"
        disabled={cursors.length === 0}
        onClick={() => onChange(cursors.slice(0, -1))}
      >
        Newer
      </button>
      <button
        type="button"
        class="button button--quiet"
        disabled={!next}
        onClick={() => next && onChange([...cursors, next])}
      >
        Older
      </button>
    </div>
  );
}
