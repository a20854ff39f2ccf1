/**
 * Reads a JSON request body with a byte limit enforced while streaming: a
 * declared `Content-Length` over the limit is refused before any byte is
 * read, and an undeclared (chunked) body is cut off as soon as it passes it.
 */
import { ZaharaError } from "../errors";

/** Default body limit: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** True when the `Content-Type` header names JSON (`application/json` or `application/*+json`). */
export function isJsonContentType(value: string | null | undefined): boolean {
  return !!value && JSON_CONTENT_TYPE.test(value.trim());
}

/** Parses a positive integer byte limit, falling back to {@link DEFAULT_MAX_BODY_BYTES}. */
export function parseMaxBodyBytes(value: string | undefined): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_MAX_BODY_BYTES;
}

function tooLarge(maxBytes: number): ZaharaError {
  return new ZaharaError("PAYLOAD_TOO_LARGE", {
    message: `Request body exceeds ${maxBytes} bytes`,
    details: { max_bytes: maxBytes },
  });
}

/** The body stopped before it was complete: the client closed the connection short of its `Content-Length`. */
function incomplete(): ZaharaError {
  return new ZaharaError("INVALID_REQUEST", { message: "Request body ended before it was complete (fewer bytes arrived than its Content-Length declared)" });
}

/**
 * Reads at most `maxBytes` of `body`, throwing 413 as soon as more arrive,
 * and 400 `INVALID_REQUEST` when the stream fails (a connection lost mid-body).
 */
export async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch {
      throw incomplete();
    }
    const { done, value } = chunk;
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * Reads and parses a JSON body. Errors: 415 `UNSUPPORTED_MEDIA_TYPE` when the
 * content type is not JSON, 413 `PAYLOAD_TOO_LARGE` over `maxBytes`, 400
 * `INVALID_JSON` for an empty, non-UTF-8 or unparsable body, 400
 * `INVALID_REQUEST` for a body cut short.
 */
export async function readJsonBody(request: Request, maxBytes: number = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
  if (!isJsonContentType(request.headers.get("Content-Type"))) {
    throw new ZaharaError("UNSUPPORTED_MEDIA_TYPE", {
      message: "Content-Type must be application/json",
    });
  }
  const declared = request.headers.get("Content-Length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readLimited(request.body, maxBytes);
  if (bytes.byteLength === 0) throw new ZaharaError("INVALID_JSON", { message: "Request body is empty" });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ZaharaError("INVALID_JSON", { message: "Request body is not valid UTF-8" });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : "parse error";
    throw new ZaharaError("INVALID_JSON", { message: `Request body is not valid JSON: ${detail}` });
  }
}
