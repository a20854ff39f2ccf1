/**
 * Bad uploads to `PUT /v1/agents/:name` (docs/hosted-agents.md): each gets a
 * clear error in the one shape, with the manifest check's messages and
 * lines, and changes nothing: the served version, the versions kept and the
 * audit log stay as they were. Racing uploads land whole.
 */
import { describe, expect, it } from "vitest";
import { createUnenforcedCheck } from "../../workers/shared/manifest";
import { checkHostedManifest } from "../../workers/shared/manifest/hosted";
import { admin, expectError, post } from "./helpers";
import { deploy, hostedManifest, uniqueName, upload } from "./hosted-helpers";

interface Issue {
  path: string;
  message: string;
  line?: number;
  severity: string;
}

async function invalid(res: Response): Promise<Issue[]> {
  const body = await expectError(res, 400, "INVALID_MANIFEST");
  return (body.details as { issues: Issue[] }).issues;
}

describe("a bad upload is refused and changes nothing", () => {
  it("not YAML: 400 INVALID_MANIFEST with the line of the problem", async () => {
    const name = uniqueName();
    const issues = await invalid(await upload(name, "apiVersion: ossa/v0.3.1\nkind: [Agent\nmetadata: {}\n"));
    expect(issues[0]?.line).toBeGreaterThanOrEqual(2);
    await expectError(await admin("GET", `/v1/agents/${name}/versions`), 404, "AGENT_NOT_FOUND");
  });

  it("the manifest check's own messages, on their lines", async () => {
    const name = uniqueName();
    const text = hostedManifest(name).replace("model: gpt-4o-mini", "model: gpt-4o-mini\n    temperature: 9");
    const issues = await invalid(await upload(name, text));
    const line = text.split("\n").findIndex((l) => l.includes("temperature")) + 1;
    expect(issues).toContainEqual(expect.objectContaining({ path: "spec/llm/temperature", line, severity: "error" }));
  });

  it("too large: 413 PAYLOAD_TOO_LARGE", async () => {
    const name = uniqueName();
    const huge = hostedManifest(name, { description: "x".repeat(70_000) });
    await expectError(await upload(name, huge), 413, "PAYLOAD_TOO_LARGE");
  });

  it("nested too deep, and an alias bomb, are refused without expanding them", async () => {
    const deep = `${"a:\n".replace("a:", "[".repeat(200))}${"]".repeat(200)}\n`;
    await invalid(await upload(uniqueName(), deep));
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      ...Array.from({ length: 9 }, (_, i) => {
        const prev = i === 0 ? "a" : `b${i - 1}`;
        return `b${i}: &b${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
      }),
    ].join("\n");
    const started = Date.now();
    await invalid(await upload(uniqueName(), bomb));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a manifest that needs code is refused, saying to deploy it as a Worker", async () => {
    const name = uniqueName();
    const noLlm = hostedManifest(name).replace(/ {2}llm:\n(?: {4}.*\n)+/, "");
    const issues = await invalid(await upload(name, noLlm));
    expect(issues.map((i) => i.message).join("\n")).toMatch(/needs code|need code/);
    expect(issues.map((i) => i.message).join("\n")).toContain(`npm run agent:new -- ${name}`);
  });

  it("a compiled-in agent's name is 409 AGENT_NAME_TAKEN; a name against the rule is 400", async () => {
    await expectError(await upload("agent-demo", hostedManifest("agent-demo")), 409, "AGENT_NAME_TAKEN");
    await expectError(await upload("Bad_Name", hostedManifest("Bad_Name")), 400, "INVALID_REQUEST");
    const name = uniqueName();
    const issues = await invalid(await upload(name, hostedManifest(uniqueName())));
    expect(issues[0]).toMatchObject({ path: "metadata/name" });
  });

  it("anything but YAML or JSON is 415", async () => {
    const name = uniqueName();
    await expectError(await upload(name, hostedManifest(name), { type: "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  it("the served version keeps serving through every refused upload", async () => {
    const name = uniqueName();
    await deploy(name);
    await invalid(await upload(name, "kind: ["));
    await expectError(
      await upload(name, hostedManifest(name), { headers: { "If-Match": '"9"' } }),
      412,
      "VERSION_CONFLICT",
    );
    const versions = (await (await admin("GET", `/v1/agents/${name}/versions`)).json()) as { versions: unknown[] };
    expect(versions.versions).toHaveLength(1);
    const call = await post(`/agents/${name}/execute`, { task: "echo", parameters: { a: 1 } });
    expect(call.status).toBe(200);
  });
});

describe("fields Zahara does not enforce", () => {
  it("are warnings on their lines (UNENFORCED_MANIFEST_FIELDS=warn); the upload is served", async () => {
    const name = uniqueName();
    const extra = "  safety:\n    content_filtering:\n      enabled: true\n";
    const text = hostedManifest(name, { extra });
    const res = await upload(name, text);
    const body = (await res.json()) as {
      warnings: { path: string; line: number; severity: string; message: string }[];
    };
    expect(res.status, JSON.stringify(body)).toBe(201);
    const line = text.split("\n").findIndex((l) => l.includes("content_filtering")) + 1;
    expect(body.warnings).toContainEqual(
      expect.objectContaining({ path: "spec/safety/content_filtering", line, severity: "warning" }),
    );
    expect(body.warnings.find((w) => w.path === "spec/safety/content_filtering")?.message).toContain(
      "does not enforce",
    );
  });

  it("are errors that refuse the upload when the setting says so", () => {
    const name = uniqueName();
    const text = hostedManifest(name, { extra: "  safety:\n    content_filtering:\n      enabled: true\n" });
    const checked = checkHostedManifest(text, {
      name,
      mediaType: "application/yaml",
      unenforced: createUnenforcedCheck("error"),
      unenforcedSeverity: "error",
    });
    expect(checked.ok).toBe(false);
    expect(checked.ok ? [] : checked.issues).toContainEqual(
      expect.objectContaining({ path: "spec/safety/content_filtering", severity: "error" }),
    );
  });
});

describe("racing uploads", () => {
  it("with If-Match, one wins and the other is 412; both are audited; no torn state", async () => {
    const name = uniqueName();
    await deploy(name);
    const racers = await Promise.all(
      [1, 2].map((i) =>
        upload(name, hostedManifest(name, { description: `Racer ${i}.` }), { headers: { "If-Match": '"1"' } }),
      ),
    );
    expect(racers.map((r) => r.status).sort()).toEqual([200, 412]);
    const lost = racers.find((r) => r.status === 412)!;
    expect((await expectError(lost, 412, "VERSION_CONFLICT")).details).toEqual({ current_version: 2 });
    const versions = (await (await admin("GET", `/v1/agents/${name}/versions`)).json()) as {
      current: number;
      versions: { version: number }[];
    };
    expect(versions.current).toBe(2);
    expect(versions.versions.map((v) => v.version)).toEqual([2, 1]);
    const { entries } = (await (await admin("GET", `/v1/audit?target=${name}&action=agent.deploy`)).json()) as {
      entries: { details: Record<string, unknown> }[];
    };
    expect(entries).toHaveLength(3);
    expect(entries.filter((e) => e.details.refused === "precondition")).toHaveLength(1);
  });

  it("without a precondition, both land as consecutive versions and the later is served", async () => {
    const name = uniqueName();
    const results = await Promise.all([1, 2, 3].map(() => upload(name, hostedManifest(name))));
    const texts = await Promise.all(results.map((r) => r.text()));
    expect(results.map((r) => r.status).sort(), texts.join("\n")).toEqual([200, 200, 201]);
    const served = texts.map((t) => JSON.parse(t) as { agent: { version: number } });
    expect(served.map((s) => s.agent.version).sort()).toEqual([1, 2, 3]);
    const versions = (await (await admin("GET", `/v1/agents/${name}/versions`)).json()) as { current: number };
    expect(versions.current).toBe(3);
  });
});
