/**
 * Handing a manifest from one screen to another (the Builder's "Deploy in Wizard"): the sending screen leaves it in
 * the tab's `sessionStorage` and navigates; the receiving screen takes it once (read and removed), so a reload does
 * not bring it back and no other tab sees it. Storage that throws (disabled, full) just means no handoff.
 */

/** The storage key. */
export const HANDOFF_KEY = "zahara.wizard.manifest";

/** The part of the Web Storage API used here (sessionStorage, or a Map in tests). */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A manifest handed over. */
export interface ManifestHandoff {
  text: string;
  fileName: string;
}

/** Leaves `handoff` for the next screen; false when the storage refused it. */
export function offerManifest(storage: Pick<KeyValueStorage, "setItem">, handoff: ManifestHandoff): boolean {
  try {
    storage.setItem(HANDOFF_KEY, JSON.stringify(handoff));
    return true;
  } catch {
    return false;
  }
}

/** Takes the manifest left for this screen, if any (and removes it). */
export function takeManifest(storage: Pick<KeyValueStorage, "getItem" | "removeItem">): ManifestHandoff | undefined {
  try {
    const raw = storage.getItem(HANDOFF_KEY);
    if (raw === null) return undefined;
    storage.removeItem(HANDOFF_KEY);
    const value = JSON.parse(raw) as Partial<ManifestHandoff> | null;
    if (typeof value?.text !== "string" || value.text === "") return undefined;
    return { text: value.text, fileName: typeof value.fileName === "string" ? value.fileName : "manifest.yaml" };
  } catch {
    return undefined;
  }
}

/** The tab's sessionStorage, or undefined where reading it throws. */
export function tabStorage(): KeyValueStorage | undefined {
  try {
    return (globalThis as { sessionStorage?: KeyValueStorage }).sessionStorage;
  } catch {
    return undefined;
  }
}
