/**
 * The bench's streamed scenario: agent-demo's `summarize` streaming from the
 * OpenAI-compatible double, asked with `Accept: text/event-stream`, (a)
 * directly and (b) through the gateway, one request at a time, interleaved.
 * The figure is the time to the first `delta` event (what a person waiting
 * for tokens sees) and what the gateway adds to it.
 *
 * Memory: a long answer (`__stream_long__`, the double's 2 MiB) is relayed
 * while the caller reads slowly; at each quarter of it the gateway isolate's
 * heap is garbage-collected and measured through workerd's inspector. A relay
 * that buffered would hold what it had read; a flat one holds about a chunk.
 */
import { inspectorSession as session } from "./inspector";
import { quantile } from "./load";

/** Time to first event and to the end, direct and through the gateway. */
export interface StreamTimes {
  requests: number;
  direct: { ttfbP50: number; ttfbP95: number; totalP50: number };
  gateway: { ttfbP50: number; ttfbP95: number; totalP50: number };
  /** Non-stream or failed answers. */
  failures: number;
}

/** The gateway's live heap (after a GC) at points of a long relayed answer. */
export interface StreamMemory {
  answerBytes: number;
  baselineBytes: number;
  /** Bytes read by the caller so far, and the gateway isolate's live heap then. */
  samples: { readBytes: number; heapBytes: number }[];
  /** Spread (largest minus smallest) of the live heap over the samples after the first. */
  growthBytes: number;
}

interface Target {
  url: string;
  headers: Record<string, string>;
}

const BODY = JSON.stringify({ task: "summarize", parameters: { text: "Zahara runs agents at the edge." } });

/** One streamed request: ms to the first `delta` event and to the end; undefined when it did not stream. */
async function once(target: Target, body = BODY): Promise<{ ttfb: number; total: number } | undefined> {
  const started = performance.now();
  const res = await fetch(target.url, {
    method: "POST",
    headers: { ...target.headers, "Content-Type": "application/json", Accept: "text/event-stream" },
    body,
  });
  if (!res.ok || !res.body || !(res.headers.get("Content-Type") ?? "").startsWith("text/event-stream")) {
    await res.body?.cancel();
    return undefined;
  }
  let ttfb: number | undefined;
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    if (ttfb === undefined) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes("event: delta")) ttfb = performance.now() - started;
    }
  }
  const total = performance.now() - started;
  return ttfb === undefined ? undefined : { ttfb, total };
}

/** Streams alternately from the agent and the gateway for `durationS` seconds. */
export async function measureStreamTimes(direct: Target, gateway: Target, durationS: number): Promise<StreamTimes> {
  const times = {
    direct: { ttfb: [] as number[], total: [] as number[] },
    gateway: { ttfb: [] as number[], total: [] as number[] },
  };
  let failures = 0;
  const until = performance.now() + durationS * 1000;
  while (performance.now() < until) {
    for (const [name, target] of [
      ["direct", direct],
      ["gateway", gateway],
    ] as const) {
      const r = await once(target);
      if (!r) failures++;
      else {
        times[name].ttfb.push(r.ttfb);
        times[name].total.push(r.total);
      }
    }
  }
  const summary = (t: { ttfb: number[]; total: number[] }) => {
    const ttfb = Float64Array.from(t.ttfb).sort();
    return {
      ttfbP50: quantile(ttfb, 0.5),
      ttfbP95: quantile(ttfb, 0.95),
      totalP50: quantile(Float64Array.from(t.total).sort(), 0.5),
    };
  };
  return {
    requests: times.gateway.ttfb.length,
    direct: summary(times.direct),
    gateway: summary(times.gateway),
    failures,
  };
}

/** Relays a long answer through the gateway, reading slowly, and measures the gateway isolate's live heap. */
export async function measureStreamMemory(inspectorPort: number, gateway: Target): Promise<StreamMemory> {
  type Listed = { title: string; webSocketDebuggerUrl: string };
  const listed = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Listed[];
  const isolate = listed.find((t) => t.title.includes("zahara-gateway"));
  if (!isolate) throw new Error("bench: the gateway isolate is not on the inspector");
  const s = await session(isolate.webSocketDebuggerUrl);
  const collected = async () => {
    // workerd runs the collection but never answers this command: ask, give it a moment, then read the heap.
    void s.send("HeapProfiler.collectGarbage");
    await new Promise((resolve) => setTimeout(resolve, 100));
    return ((await s.send("Runtime.getHeapUsage")) as { usedSize: number }).usedSize;
  };
  // The collection may land after the read that follows it: the lower of two reads is the live heap.
  const liveHeap = async () => Math.min(await collected(), await collected());
  try {
    await s.send("HeapProfiler.enable");
    await liveHeap();
    const baselineBytes = await liveHeap();
    const body = JSON.stringify({ task: "summarize", parameters: { text: "__stream_long__" } });
    const res = await fetch(gateway.url, {
      method: "POST",
      headers: { ...gateway.headers, "Content-Type": "application/json", Accept: "text/event-stream" },
      body,
    });
    if (!res.ok || !res.body) throw new Error(`bench: the long stream answered ${res.status} ${await res.text()}`);
    const samples: StreamMemory["samples"] = [];
    let readBytes = 0;
    let next = 256 * 1024;
    for await (const chunk of res.body) {
      readBytes += chunk.byteLength;
      if (readBytes >= next) {
        samples.push({ readBytes, heapBytes: await liveHeap() });
        next += 512 * 1024;
      }
    }
    // Growth while the stream runs: the spread of the samples after the first. The first (the stream just open)
    // and the baseline are shown but not used: the load before this step leaves garbage that a collection does
    // not always clear by then. A relay that buffered would grow with the bytes read, by megabytes.
    const heaps = samples.slice(1).map((x) => x.heapBytes);
    const growthBytes = heaps.length > 0 ? Math.max(...heaps) - Math.min(...heaps) : Number.NaN;
    return { answerBytes: readBytes, baselineBytes, samples, growthBytes };
  } finally {
    s.close();
  }
}
