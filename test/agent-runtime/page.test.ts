/** GET / on each agent: name, description, capabilities and a try-it form, styled from its branding. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import agentCustom from "../../workers/generated/manifests/agent-custom";
import { agentFrom, demoManifest } from "./helpers";

describe("agent page", () => {
  it("agent-demo: Zahara theme with logo, capabilities and the try-it form", async () => {
    const res = await SELF.fetch("https://agent.test/");
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(res.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain("<title>Zahara Demo Agent</title>");
    expect(html).toContain('class="logo"');
    expect(html).toContain("--accent:#6d28d9");
    for (const cap of ["echo", "chaos", "summarize"]) expect(html).toContain(`<option value="${cap}">`);
    expect(html).toContain('<script src="/_assets/try.js" defer></script>');
    expect((await SELF.fetch("https://agent.test/_assets/try.js")).status).toBe(200);
  });

  it("the try-it script asks for an event stream and shows deltas, the result and errors", async () => {
    const res = await SELF.fetch("https://agent.test/_assets/try.js");
    expect(res.headers.get("Content-Type")).toMatch(/^text\/javascript/);
    const script = await res.text();
    expect(script).toContain('Accept: "text/event-stream"');
    for (const event of ['"delta"', '"done"', '"error"']) expect(script).toContain(`name === ${event}`);
    // Still reads a JSON answer (an error before the first piece).
    expect(script).toContain("await res.json()");
    // Escapes survived the template literal: the script splits events on a blank line.
    expect(script).toContain('indexOf("\\n\\n")');
  });

  it("agent-custom: its own name, neutral theme, no logo, no Zahara branding", async () => {
    const html = await (await agentFrom(agentCustom).call("/")).text();
    expect(html).toContain("<title>Acme Support Triage</title>");
    expect(html).not.toContain('class="logo"');
    expect(html).not.toMatch(/zahara/i);
    expect(html).toContain("--accent:#374151");
    expect(html).toContain('<option value="classify">');
  });

  it("escapes manifest text", async () => {
    const manifest = demoManifest((m) => void (m.metadata.description = '<img src=x onerror="alert(1)">'));
    const html = await (await agentFrom(manifest).call("/")).text();
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&#60;img src=x onerror=&#34;alert(1)&#34;&#62;");
  });

  it("embeds input schemas as JSON that cannot close its script element", async () => {
    const manifest = demoManifest((m) => {
      const tool = m.spec.tools?.[0];
      if (tool) tool.input_schema = { type: "object", description: "</script><script>alert(1)</script>" };
    });
    const html = await (await agentFrom(manifest).call("/")).text();
    expect(html).not.toContain("</script><script>alert(1)");
    const json = /<script type="application\/json" id="schemas">(.*?)<\/script>/.exec(html)?.[1] ?? "";
    expect(JSON.parse(json).echo.description).toBe("</script><script>alert(1)</script>");
  });
});
