/** The empty state a screen shows when it has nothing to show (yet). */
import type { ComponentChildren } from "preact";

export interface EmptyStateProps {
  title: string;
  children?: ComponentChildren;
}

export function EmptyState({ title, children }: EmptyStateProps) {
  return (
    <section class="empty-state" aria-label={title}>
      <h2 class="empty-state__title">{title}</h2>
      {children ? <div class="empty-state__body">{children}</div> : null}
    </section>
  );
}
