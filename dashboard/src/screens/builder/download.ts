/** Saving the manifest: a Blob offered as `<name>.ossa.yaml`. */

/** The file name for an agent name: `<name>.ossa.yaml`, with characters files dislike replaced (`agent.ossa.yaml` when empty). */
export function manifestFileName(name: string): string {
  const safe = name
    .trim()
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
  return `${safe || "agent"}.ossa.yaml`;
}

/** Offers `text` as a download named `fileName`. */
export function downloadText(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
