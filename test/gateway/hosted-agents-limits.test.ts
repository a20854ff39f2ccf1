/**
 * Hosted-agent limits (HOSTED_AGENTS_MAX 50 and HOSTED_AGENT_VERSIONS_KEPT 10,
 * the defaults): past them an upload is refused or the oldest version goes;
 * this file's D1 starts empty, so the counts are exact.
 */
import { describe, expect, it } from "vitest";
import { admin, expectError } from "./helpers";
import { deploy, hostedManifest, uniqueName, upload } from "./hosted-helpers";

describe("limits", () => {
  it("keeps the served version and the newest others, 10 in all; the pruned are 404", async () => {
    const name = uniqueName();
    for (let i = 0; i < 12; i++) await deploy(name);
    await admin("POST", `/v1/agents/${name}/rollback`, { version: 3 });
    await deploy(name);
    const { versions, current } = (await (await admin("GET", `/v1/agents/${name}/versions`)).json()) as {
      current: number;
      versions: { version: number }[];
    };
    expect(current).toBe(13);
    expect(versions.map((v) => v.version)).toEqual([13, 12, 11, 10, 9, 8, 7, 6, 5, 4]);
    await expectError(await admin("GET", `/v1/agents/${name}/versions/2`), 404, "VERSION_NOT_FOUND");
  });

  it("past HOSTED_AGENTS_MAX a new name is 409 HOSTED_AGENT_LIMIT (audited); live agents still update", async () => {
    const listed = (await (await admin("GET", "/v1/agents")).json()) as { agents: unknown[] };
    const names: string[] = [];
    for (let i = listed.agents.length; i < 50; i++) {
      const name = uniqueName("limit");
      names.push(name);
      await deploy(name);
    }
    const over = uniqueName("limit");
    const body = await expectError(await upload(over, hostedManifest(over)), 409, "HOSTED_AGENT_LIMIT");
    expect(body.error).toContain("HOSTED_AGENTS_MAX");
    const { entries } = (await (await admin("GET", `/v1/audit?target=${over}`)).json()) as {
      entries: { details: Record<string, unknown> }[];
    };
    expect(entries[0]?.details).toMatchObject({ refused: "limit" });
    expect(await deploy(names[0]!)).toBe(2);
    // A deleted agent frees its place.
    await admin("DELETE", `/v1/agents/${names[1]}`);
    expect(await deploy(over)).toBe(1);
  });
});
