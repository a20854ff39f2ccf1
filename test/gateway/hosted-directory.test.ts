/**
 * The bound docs/hosted-agents.md states: an isolate serves the hosted agents
 * as the store said at most HOSTED_AGENTS_REFRESH_MS ago (2 s by default). The
 * directory is driven with its own clock against the real D1, as a second
 * isolate would see a change made through another; a store that fails keeps
 * the last view.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AgentDirectory } from "../../workers/gateway/src/hosted/directory";
import { putVersion } from "../../workers/gateway/src/hosted/store";
import { HOSTED_BINDING, checkHostedManifest } from "../../workers/gateway/src/hosted/validate";
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
  it("is at most HOSTED_AGENTS_REFRESH_MS old", async () => {
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
