/**
 * Reads a JSON body (a caller's request, or an upstream's answer) with a byte
 * limit enforced while streaming: a declared `Content-Length` over the limit
 * is refused before any byte is read, and an undeclared (chunked) body is cut
 * off as soon as it passes it.
 */
import { ZaharaError } from "../errors";

/** Default body limit: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** True when the `Content-Type` header names JSON (`application/json` or `application/*+json`). */
export function isJsonContentType(value: string | null | undefined): boolean {
  return !!value && JSON_CONTENT_TYPE.test(value.trim());
}

/** Parses a positive integer byte limit (a var such as `MAX_BODY_BYTES`), falling back to `fallback`. */
export function parseByteLimit(value: string | undefined, fallback: number = DEFAULT_MAX_BODY_BYTES): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

function tooLarge(maxBytes: number): ZaharaError {
  return new ZaharaError("PAYLOAD_TOO_LARGE", {
    message: `Request body exceeds ${maxBytes} bytes`,
    details: { max_bytes: maxBytes },
  });
}

/** Bounds of {@link lingerOverflow} in local development: 10 s, 8 MiB. */
export const OVERFLOW_LINGER = { maxMs: 10_000, maxBytes: 8 * 1024 * 1024 };

/** Over-limit request bodies left unread by {@link readLimited} (`keepRest`), by request, for {@link takeOverflow}. */
const overflows = new WeakMap<object, ReadableStreamDefaultReader<Uint8Array>>();

/** The unread rest of `request`'s over-limit body (once): the caller drains or cancels it. */
export function takeOverflow(request: object): ReadableStreamDefaultReader<Uint8Array> | undefined {
  const reader = overflows.get(request);
  overflows.delete(request);
  return reader;
}

/**
 * `res` with its (small) body written at once under a fixed length, but the stream held open
 * while `rest` is read and discarded, until it ends, fails (the client left) or `maxMs` passes;
 * then `rest` is cancelled and the stream closed. The runtime's HTTP server so never closes the
 * connection while the request body is still in flight, which behind `wrangler dev`'s proxy
 * loses the proxy's next request (workerd's HTTP client reuses the dead connection).
 */
export async function lingerOverflow(
  res: Response,
  rest: ReadableStreamDefaultReader<Uint8Array>,
  { maxMs, maxBytes }: { maxMs: number; maxBytes: number },
): Promise<Response> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const { readable, writable } = new FixedLengthStream(bytes.byteLength);
  const writer = writable.getWriter();
  void writer.write(bytes).catch(() => undefined);
  let expire!: () => void;
  const timeout = new Promise<{ done: true; value?: undefined }>((resolve) => (expire = () => resolve({ done: true })));
  const timer = setTimeout(expire, maxMs);
  void (async () => {
    try {
      for (let left = maxBytes; left >= 0;) {
        const chunk = await Promise.race([rest.read(), timeout]);
        if (chunk.done) break;
        left -= chunk.value.byteLength;
      }
    } catch {
      // the client went away mid-body
    }
    clearTimeout(timer);
    await rest.cancel().catch(() => undefined);
    await writer.close().catch(() => undefined);
  })();
  return new Response(readable, res);
}

/** The body stopped before it was complete: the client closed the connection short of its `Content-Length`. */
function incomplete(): ZaharaError {
  return new ZaharaError("INVALID_REQUEST", {
    message: "Request body ended before it was complete (fewer bytes arrived than its Content-Length declared)",
  });
}

/**
 * Reads at most `maxBytes` of a request's or response's body: 413 at once
 * (the body cancelled unread) when its `Content-Length` declares more, 413 as
 * soon as more arrive, and 400 `INVALID_REQUEST` when the stream fails (a
 * connection lost mid-body).
 */
export async function readLimited(
  message: { body: ReadableStream<Uint8Array> | null; headers: Headers },
  maxBytes: number,
  { keepRest = false }: { keepRest?: boolean } = {},
): Promise<Uint8Array> {
  const { body } = message;
  const declared = message.headers.get("Content-Length");
  if (declared !== null && Number(declared) > maxBytes) {
    if (keepRest && body) overflows.set(message, body.getReader());
    else await body?.cancel().catch(() => undefined);
    throw tooLarge(maxBytes);
  }
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
      if (keepRest) overflows.set(message, reader);
      else await reader.cancel().catch(() => undefined);
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
  const bytes = await readLimited(request, maxBytes, { keepRest: true });
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

/** An upstream's JSON answer read with a cap: its value, or why there is none. */
export type UpstreamJson = { ok: true; value: unknown } | { ok: false; tooLarge: boolean };

/**
 * Reads an upstream's answer (an agent's, an LLM provider's) with
 * {@link readLimited}: over `maxBytes` is `tooLarge`; a stream that failed or
 * a body that is not JSON is `tooLarge: false`. Nothing of the body is kept
 * on failure, so callers can never relay it.
 */
export async function readUpstreamJson(res: Response, maxBytes: number): Promise<UpstreamJson> {
  let bytes: Uint8Array;
  try {
    bytes = await readLimited(res, maxBytes);
  } catch (err) {
    return { ok: false, tooLarge: err instanceof ZaharaError && err.code === "PAYLOAD_TOO_LARGE" };
  }
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(bytes)) as unknown };
  } catch {
    return { ok: false, tooLarge: false };
  }
}
