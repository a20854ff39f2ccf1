/**
 * YAML (and JSON) source handling for manifests: parsing into exactly one
 * document, and mapping data paths back to line/column positions. Uses only
 * the `yaml` package, so it runs in Cloudflare Workers as well as in Node.
 */
import { type Document, LineCounter, Parser, isAlias, isMap, isScalar, isSeq, parseAllDocuments } from "yaml";

/** A 1-based line/column position in the source text. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** A problem found while parsing the source text. */
export interface SourceProblem {
  message: string;
  position?: SourcePosition;
}

/** A key that appears twice in the same mapping (the last value wins in `data`). */
export interface DuplicateKey {
  path: (string | number)[];
  position?: SourcePosition;
}

/** One parsed YAML document, its plain-data value, and the line index of the text. */
export interface ParsedSource {
  doc: Document.Parsed;
  lineCounter: LineCounter;
  data: unknown;
  duplicateKeys: DuplicateKey[];
}

/** Result of {@link parseYamlSource}. */
export type ParseSourceResult = { ok: true; source: ParsedSource } | { ok: false; problems: SourceProblem[] };

/** Why `text` is not valid JSON (with the offset when the engine reports one), or undefined. */
function jsonProblem(text: string): { message: string; offset?: number } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /at position (\d+)/.exec(message)?.[1];
    const short = message.replace(/\s*in JSON at position \d+(\s*\(line \d+ column \d+\))?/, "");
    return { message: `Invalid JSON: ${short}`, ...(offset === undefined ? {} : { offset: Number(offset) }) };
  }
}

/**
 * Deepest nesting of mappings and lists a manifest may have (the repo's
 * manifests, JSON Schemas included, nest under 15 deep). `yaml` composes
 * documents recursively: 2 KB of `[[[[…` overflow the stack, and in V8 a
 * second such overflow can abort the whole process (a fatal "RegExpCompiler
 * Allocation failed"), so deeper text is refused before it is composed.
 */
export const MAX_NESTING_DEPTH = 100;

const COLLECTION_TOKENS = new Set(["block-map", "block-seq", "flow-collection"]);

/** Longest run of indentation and `- `/`? ` indicators a line may start with (block nesting needs one of those per level). */
const MAX_INDENT = 250;

/**
 * How deeply collections nest in `text`, from `yaml`'s concrete syntax tree
 * (walked without recursion); stops once past `limit`. The parser itself
 * recurses when a block collection ends, so text with a line indented past
 * {@link MAX_INDENT} (a thousand levels would overflow) counts as too deep
 * before it is parsed.
 */
export function yamlNestingDepth(text: string, limit = MAX_NESTING_DEPTH): number {
  if (text.split(/\r\n|\r|\n/).some((line) => (/^[ \t?-]*/.exec(line)?.[0].length ?? 0) > MAX_INDENT)) return Infinity;
  let max = 0;
  const stack: [object, number][] = Array.from(new Parser().parse(text), (token): [object, number] => [token, 0]);
  for (let top = stack.pop(); top !== undefined && max <= limit; top = stack.pop()) {
    const [node, outer] = top;
    const depth = COLLECTION_TOKENS.has((node as { type?: string }).type ?? "") ? outer + 1 : outer;
    max = Math.max(max, depth);
    for (const child of Object.values(node))
      if (typeof child === "object" && child !== null) stack.push([child as object, depth]);
  }
  return max;
}

/**
 * Parses `text` as a single YAML 1.2 document. Files named `*.json` must be
 * strict JSON (then parsed the same way, for positions); others may be YAML
 * or JSON. Unquoted timestamps such as `2025-10-31` become dates, as in
 * PyYAML and js-yaml, so they fail where the schema wants a string; `<<`
 * merge keys are honoured. Syntax errors and any document count other than
 * one are reported with positions; text nested deeper than
 * {@link MAX_NESTING_DEPTH} is refused unparsed, and alias expansion is
 * bounded (`maxAliasCount`, against billion-laughs documents). Duplicate
 * keys do not stop parsing (the last value wins, as in PyYAML) but are
 * listed in `duplicateKeys`.
 */
export function parseYamlSource(text: string, fileName: string): ParseSourceResult {
  if (yamlNestingDepth(text) > MAX_NESTING_DEPTH) {
    return {
      ok: false,
      problems: [{ message: `Mappings and lists nested more than ${MAX_NESTING_DEPTH} levels deep; not read` }],
    };
  }
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    customTags: ["timestamp"],
    merge: true,
    uniqueKeys: false,
  });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (/\.json$/i.test(fileName)) {
    const problem = jsonProblem(text);
    if (problem !== undefined) {
      const at = problem.offset === undefined ? {} : { position: position(problem.offset) };
      return { ok: false, problems: [{ message: problem.message, ...at }] };
    }
  }
  if (!Array.isArray(docs) || docs.length === 0) {
    return { ok: false, problems: [{ message: "No YAML document found; expected one manifest" }] };
  }
  if (docs.length > 1) {
    const second = docs[1];
    return {
      ok: false,
      problems: [
        {
          message: `Found ${docs.length} YAML documents; a manifest file must contain exactly one`,
          ...(second ? { position: position(second.range[0]) } : {}),
        },
      ],
    };
  }
  const doc = docs[0];
  if (doc === undefined) return { ok: false, problems: [{ message: "No YAML document found; expected one manifest" }] };
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((error) => ({
        message: `YAML syntax error: ${error.message}`,
        position: position(error.pos[0]),
      })),
    };
  }
  try {
    const data: unknown = doc.toJS({ maxAliasCount: 100 }); // yaml's default, kept explicit: it stops alias bombs
    const duplicateKeys = findDuplicateKeys(doc.contents, []).map(({ path, offset }) => ({
      path,
      ...(offset === undefined ? {} : { position: position(offset) }),
    }));
    return { ok: true, source: { doc, lineCounter, data, duplicateKeys } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problems: [{ message: `YAML error: ${message}` }] };
  }
}

function nodeStart(node: unknown): number | undefined {
  if (isScalar(node) || isMap(node) || isSeq(node) || isAlias(node)) return node.range?.[0];
  return undefined;
}

/** Keys repeated within one mapping, anywhere under `node` (aliases are not followed). */
function findDuplicateKeys(node: unknown, path: (string | number)[]): { path: (string | number)[]; offset?: number }[] {
  if (isSeq(node)) return node.items.flatMap((item, index) => findDuplicateKeys(item, [...path, index]));
  if (!isMap(node)) return [];
  const seen = new Set<string>();
  const found: { path: (string | number)[]; offset?: number }[] = [];
  for (const pair of node.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    if (seen.has(key)) {
      const offset = nodeStart(pair.key);
      found.push({ path: [...path, key], ...(offset === undefined ? {} : { offset }) });
    }
    seen.add(key);
    found.push(...findDuplicateKeys(pair.value, [...path, key]));
  }
  return found;
}

/**
 * Position of the node at `path` (map keys point at the key, sequence items
 * at the item). When the path does not exist in the document, the position of
 * its deepest existing ancestor is returned.
 */
export function positionOf(source: ParsedSource, path: readonly PropertyKey[]): SourcePosition | undefined {
  const { doc, lineCounter } = source;
  let node: unknown = doc.contents;
  let offset = nodeStart(node);
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair === undefined) break;
      offset = nodeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = typeof segment === "number" ? node.items[segment] : undefined;
      if (item === undefined) break;
      offset = nodeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  if (offset === undefined) return undefined;
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}
