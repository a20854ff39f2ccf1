/**
 * `spec.safety.pii_detection` enforced by the agent runtime, against the OpenAI-compatible double: redact (the
 * provider sees placeholders, the caller gets a redacted answer), block (400 PII_DETECTED naming kinds, never
 * values), log (unchanged), the `Zahara-Pii-Kinds` header in each, and the streamed answer under each action.
 */
import { describe, expect, it } from "vitest";
import type { ZaharaAgentManifest } from "../../workers/shared/manifest";
import { expectError } from "../gateway/helpers";
import { agentFrom, demoManifest, llmRequests as received } from "./helpers";
import { STREAM, deltaText, readEvents } from "./stream-helpers";

const HEADER = "Zahara-Pii-Kinds";

/** agent-demo with a free-form `chat` capability (no output schema) and `pii_detection` set to `action`. */
function piiAgent(action: "block" | "redact" | "warn", types: string[] = ["email_address", "phone"]) {
  return agentFrom(
    demoManifest((m: ZaharaAgentManifest) => {
      m.spec.tools?.push({ type: "function", name: "chat", input_schema: { type: "object" } });
      m.spec.safety = { ...m.spec.safety, pii_detection: { enabled: true, types, action } };
    }),
  );
}

const marker = () => `m-${crypto.randomUUID()}`;

describe("pii_detection: redact", () => {
  it("the provider sees [REDACTED:email], and so does the caller", async () => {
    const m = marker();
    const res = await piiAgent("redact").run("chat", { q: `write to alice@example.com ${m}` });
    const text = await res.clone().text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get(HEADER)).toBe("email");
    const [sent] = await received(m);
    const user = sent?.messages.find((x) => x.role === "user")?.content ?? "";
    expect(user).toContain("[REDACTED:email]");
    expect(user).not.toContain("alice@example.com");
    expect(text).not.toContain("alice@example.com");
  });

  it("an answer with an email reaches the caller redacted", async () => {
    const res = await piiAgent("redact").run("summarize", { text: `__pii_answer__ ${marker()}` });
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBe("email");
    const body = (await res.json()) as { result: { summary: string; key_points: string[] } };
    expect(body.result).toEqual({
      summary: "reach me at [REDACTED:email]",
      key_points: ["reach me at [REDACTED:email]"],
    });
  });

  it("code capabilities too: echo answers with the redacted parameters, keys untouched", async () => {
    const res = await piiAgent("redact").run("echo", { "bob@example.com": { phone: "+1 415 555 2671", n: 7 } });
    expect(res.headers.get(HEADER)).toBe("phone");
    expect(((await res.json()) as { result: unknown }).result).toEqual({
      "bob@example.com": { phone: "[REDACTED:phone]", n: 7 },
    });
  });

  it("a streaming caller gets the checked answer as one done event, without deltas", async () => {
    const res = await piiAgent("redact").run("summarize", { text: `__pii_answer__ ${marker()}` }, STREAM);
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBe("email");
    const events = await readEvents(res);
    expect(events.map((e) => e.event)).toEqual(["done"]);
    expect(JSON.stringify(events)).not.toContain("leak@example.com");
    expect(events[0]?.data.result).toMatchObject({ summary: "reach me at [REDACTED:email]" });
  });
});

describe("pii_detection: block", () => {
  it("parameters with an email → 400 PII_DETECTED naming the kind, not the value; the provider is not called", async () => {
    const m = marker();
    const res = await piiAgent("block").run("chat", { q: `write to alice@example.com ${m}` });
    const text = await res.clone().text();
    expect(res.headers.get(HEADER)).toBe("email");
    const body = await expectError(res, 400, "PII_DETECTED", "agent-demo");
    expect(body.error).toContain("email");
    expect(body.details).toEqual({ kinds: ["email"], where: "parameters" });
    expect(text).not.toContain("alice@example.com");
    expect(await received(m)).toEqual([]);
  });

  it("an answer with an email → 400 PII_DETECTED, nothing of the answer sent", async () => {
    const res = await piiAgent("block").run("summarize", { text: `__pii_answer__ ${marker()}` });
    const text = await res.clone().text();
    const body = await expectError(res, 400, "PII_DETECTED", "agent-demo");
    expect(body.details).toEqual({ kinds: ["email"], where: "result" });
    expect(text).not.toContain("leak@example.com");
  });

  it("a streaming caller gets the refusal as a JSON error, before any event", async () => {
    const res = await piiAgent("block").run("summarize", { text: "call +44 20 7946 0958" }, STREAM);
    await expectError(res, 400, "PII_DETECTED", "agent-demo");
  });

  it("kinds the manifest does not name pass (a card number, with types [email, phone])", async () => {
    const res = await piiAgent("block").run("echo", { card: "4111 1111 1111 1111" });
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBeNull();
  });
});

describe("pii_detection: warn (log)", () => {
  it("passes the call unchanged and names every kind found in the header", async () => {
    const m = marker();
    const res = await piiAgent("warn").run("chat", { q: `alice@example.com or +44 20 7946 0958, ${m} __pii_answer__` });
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBe("email,phone");
    const [sent] = await received(m);
    expect(sent?.messages.find((x) => x.role === "user")?.content).toContain("alice@example.com");
    expect(await res.text()).toContain("leak@example.com");
  });

  it("a streaming caller gets its pieces as they come; the header names the parameters' kinds", async () => {
    const res = await piiAgent("warn").run("summarize", { text: "alice@example.com __pii_answer__" }, STREAM);
    expect(res.headers.get(HEADER)).toBe("email");
    const events = await readEvents(res);
    expect(events.filter((e) => e.event === "delta").length).toBeGreaterThan(1);
    expect(deltaText(events)).toContain("leak@example.com");
  });

  it("without pii_detection nothing is screened and no header is sent", async () => {
    const res = await agentFrom(demoManifest()).run("echo", { to: "alice@example.com" });
    expect(res.status).toBe(200);
    expect(res.headers.get(HEADER)).toBeNull();
  });
});
