/**
 * Writing values into a YAML document while keeping everything else as it
 * was: comments, key order, flow or block style, block scalars. A value that
 * is already there (deeply equal) is not touched at all; maps and lists are
 * updated entry by entry, so editing one property of a JSON Schema changes
 * one line, not the whole block.
 */
import { type Document, isCollection, isMap, isNode, isScalar, isSeq } from "yaml";

/** A path into a document: map keys and list indexes. */
export type DocPath = readonly (string | number)[];

/** A plain JSON-like object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep equality of plain data (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The plain value at `path` (undefined when absent). */
export function valueAt(doc: Document, path: DocPath): unknown {
  const node = doc.getIn(path, true);
  return isNode(node) ? node.toJS(doc) : node;
}

/** `{ a: { b: value } }` for the path `["a", "b"]`. */
function nest(path: DocPath, value: unknown): unknown {
  return path.reduceRight<unknown>((inner, key) => (typeof key === "number" ? [inner] : { [key]: inner }), value);
}

/** Sets a new node at `path`, replacing any scalar (such as an empty `key:`) that stands where a map is needed. */
function setNode(doc: Document, path: DocPath, value: unknown): void {
  if (doc.contents === null || (!isCollection(doc.contents) && path.length > 0)) {
    doc.contents = doc.createNode(nest(path, value)) as typeof doc.contents;
    return;
  }
  for (let i = 1; i < path.length; i++) {
    const node = doc.getIn(path.slice(0, i), true);
    if (node === undefined) break;
    if (!isCollection(node)) {
      doc.setIn(path.slice(0, i), doc.createNode(nest(path.slice(i), value)));
      return;
    }
  }
  doc.setIn(path, doc.createNode(value));
}

/** Deletes `path`, then any map left empty above it (never a top-level key such as `metadata`). */
function deleteAndPrune(doc: Document, path: DocPath): void {
  if (doc.getIn(path, true) === undefined) return;
  doc.deleteIn(path);
  for (let parent = path.slice(0, -1); parent.length > 1; parent = parent.slice(0, -1)) {
    const node = doc.getIn(parent, true);
    if (!isMap(node) || node.items.length > 0) break;
    doc.deleteIn(parent);
  }
}

/**
 * Makes the value at `path` equal `value` (undefined: remove it, and maps
 * it leaves empty) with the smallest change to the document.
 */
export function reconcile(doc: Document, path: DocPath, value: unknown): void {
  const node = doc.getIn(path, true);
  const current = isNode(node) ? node.toJS(doc) : node;
  if (deepEqual(current, value)) return;
  if (value === undefined) {
    deleteAndPrune(doc, path);
    return;
  }
  if (isPlainObject(value) && isMap(node)) {
    for (const [key, v] of Object.entries(value)) reconcile(doc, [...path, key], v);
    for (const pair of [...node.items]) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (typeof key !== "string" || !Object.hasOwn(value, key)) node.delete(pair.key);
    }
    return;
  }
  if (Array.isArray(value) && isSeq(node)) {
    value.forEach((v, i) => (i < node.items.length ? reconcile(doc, [...path, i], v) : node.add(doc.createNode(v))));
    node.items.splice(value.length);
    return;
  }
  // Same kind of scalar: change the value, keep the style (a `|` block stays a block).
  if (
    isScalar(node) &&
    node.tag === undefined &&
    value !== null &&
    typeof value !== "object" &&
    typeof node.value === typeof value
  ) {
    node.value = value;
    return;
  }
  setNode(doc, path, value);
}
