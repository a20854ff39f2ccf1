/**
 * The bounds docs/hosted-agents.md states: a view of the hosted agents is
 * reloaded once HOSTED_AGENTS_REFRESH_MS old (2 s by default), in the
 * background under traffic, and no request sees one twice that old. The
 * directory is driven with its own clock against the real D1, as a second
 * isolate would see a change made through another; a store that fails keeps
 * the last view.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AgentDirectory } from "../../workers/gateway/src/hosted/directory";
import { putVersion } from "../../workers/gateway/src/hosted/store";
import { HOSTED_BINDING, checkHostedManifest } from "../../workers/shared/manifest/hosted";
import { hostedManifest, uniqueName } from "./hosted-helpers";

const REFRESH_MS = 2000;
const audit = { actor: "key_test", action: "agent.deploy", target: null, requestId: "r", clientIp: null };

async function store(name: string, description: string): Promise<void> {
  const checked = checkHostedManifest(hostedManifest(name, { description }), { name, mediaType: "application/yaml" });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  const manifest = JSON.stringify(checked.manifest);
  const limits = { maxAgents: 50, versionsKept: 10 };
  const v = { name, source: "x", contentType: "application/yaml", manifest, digest: description };
  const out = await putVersion(env.ACCESS_DB, v, { kind: "none" }, limits, { ...audit, target: name }, Date.now());
  expect(out.ok).toBe(true);
}

const described = (d: AgentDirectory, name: string) =>
  d.registry.agents.find((a) => a.name === name)?.capabilities.find((c) => c.name === "summarize")?.description;

describe("an isolate's view of the hosted agents", () => {
  it("is reloaded once HOSTED_AGENTS_REFRESH_MS old, not before", async () => {
    const directory = new AgentDirectory([]);
    const name = uniqueName();
    await store(name, "First.");
    const t0 = 1_000_000;
    await directory.refresh(env.ACCESS_DB, t0, REFRESH_MS);
    expect(described(directory, name)).toBe("First.");
    expect(directory.registry.agents.find((a) => a.name === name)).toMatchObject({
      binding: HOSTED_BINDING,
      hosted: { version: 1 },
    });

    await store(name, "Second.");
    await directory.refresh(env.ACCESS_DB, t0 + REFRESH_MS - 1, REFRESH_MS);
    expect(described(directory, name)).toBe("First.");
    await directory.refresh(env.ACCESS_DB, t0 + REFRESH_MS, REFRESH_MS);
    expect(described(directory, name)).toBe("Second.");
  });

  it("under traffic, reloads in the background; after a silence of twice the interval, the request waits", async () => {
    const directory = new AgentDirectory([]);
    const name = uniqueName();
    await store(name, "One.");
    const t0 = 5_000_000;
    await directory.refresh(env.ACCESS_DB, t0, REFRESH_MS);
    await store(name, "Two.");
    const pending: Promise<void>[] = [];
    const background = (p: Promise<void>) => void pending.push(p);
    // Stale but less than twice the interval: this request goes on with the view it has.
    await directory.refresh(env.ACCESS_DB, t0 + 2 * REFRESH_MS - 1, REFRESH_MS, undefined, background);
    expect(described(directory, name)).toBe("One.");
    expect(pending).toHaveLength(1);
    await Promise.all(pending);
    expect(described(directory, name)).toBe("Two.");
    // Twice the interval or more: the request waits for the store.
    await store(name, "Three.");
    const t1 = t0 + 2 * REFRESH_MS - 1;
    await directory.refresh(env.ACCESS_DB, t1 + 2 * REFRESH_MS, REFRESH_MS, undefined, background);
    expect(pending).toHaveLength(1);
    expect(described(directory, name)).toBe("Three.");
  });

  it("keeps the last view when the store fails, and tries again a second later", async () => {
    const directory = new AgentDirectory([]);
    const name = uniqueName();
    await store(name, "Kept.");
    await directory.refresh(env.ACCESS_DB, 0, REFRESH_MS);
    const broken = {
      prepare: () => {
        throw new Error("D1 is down");
      },
    } as unknown as D1Database;
    await directory.refresh(broken, REFRESH_MS, REFRESH_MS);
    expect(described(directory, name)).toBe("Kept.");
    await store(name, "After.");
    await directory.refresh(env.ACCESS_DB, REFRESH_MS + 999, REFRESH_MS);
    expect(described(directory, name)).toBe("Kept.");
    await directory.refresh(env.ACCESS_DB, REFRESH_MS + 1000, REFRESH_MS);
    expect(described(directory, name)).toBe("After.");
  });
});
