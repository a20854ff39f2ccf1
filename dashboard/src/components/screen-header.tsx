/** A screen's heading (the page's one h1) and its one-line description. */
export interface ScreenHeaderProps {
  title: string;
  description: string;
}

export function ScreenHeader({ title, description }: ScreenHeaderProps) {
  return (
    <header class="screen-header">
      <h1>{title}</h1>
      <p class="muted">{description}</p>
    </header>
  );
}
