/**
 * `GET /`: a small page about the agent (name, description, capabilities) with
 * a try-it form, styled from the manifest's `extensions.zahara.branding`.
 * Everything from the manifest is HTML-escaped; the script is served from
 * `/_assets/try.js` so the page needs no inline script. The form streams the
 * answer (`Accept: text/event-stream`), showing text as the model writes it.
 */
import type { AgentInfo } from "../../shared/agents";
import type { ZaharaAgentManifest } from "../../shared/manifest";

/** Colours and logo switch resolved from branding. */
export interface Theme {
  accent: string;
  background: string;
  surface: string;
  text: string;
  muted: string;
  showLogo: boolean;
}

/** Resolves the manifest's branding into a theme. */
export function resolveTheme(manifest: ZaharaAgentManifest): Theme {
  const b = manifest.extensions.zahara.branding;
  const neutral = b?.theme === "neutral";
  return {
    accent: b?.accent_color ?? (neutral ? "#374151" : "#6d28d9"),
    background: neutral ? "#ffffff" : "#faf8ff",
    surface: neutral ? "#f9fafb" : "#ffffff",
    text: "#111827",
    muted: "#4b5563",
    showLogo: !neutral && (b?.show_logo ?? true),
  };
}

/** Escapes text for HTML element and attribute content. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const LOGO = `<svg class="logo" viewBox="0 0 32 32" width="32" height="32" aria-hidden="true"><rect width="32" height="32" rx="8" fill="currentColor"/><path d="M9 10h14l-14 12h14" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

/** Renders the agent's landing page. */
export function renderAgentPage(manifest: ZaharaAgentManifest, info: AgentInfo): string {
  const t = resolveTheme(manifest);
  const tagline = manifest.extensions.zahara.branding?.tagline;
  const caps = info.capabilities
    .map(
      (c) =>
        `<li><code>${escapeHtml(c.name)}</code>${c.description ? ` — ${escapeHtml(c.description.split("\n")[0] ?? "")}` : ""}</li>`,
    )
    .join("");
  const options = info.capabilities
    .map((c) => `<option value="${escapeHtml(c.name)}">${escapeHtml(c.name)}</option>`)
    .join("");
  const schemas = Object.fromEntries(info.capabilities.map((c) => [c.name, c.input_schema ?? {}]));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(info.display_name)}</title>
<style>
:root{--accent:${t.accent};--bg:${t.background};--surface:${t.surface};--text:${t.text};--muted:${t.muted}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--text)}
main{max-width:760px;margin:0 auto;padding:32px 20px}
header{display:flex;gap:12px;align-items:center;color:var(--accent)}
h1{margin:0;font-size:1.6rem;color:var(--text)}.tagline{color:var(--muted);margin:4px 0 0}
section{background:var(--surface);border:1px solid #e5e7eb;border-radius:10px;padding:16px 20px;margin-top:20px}
h2{font-size:1.1rem;margin:0 0 8px}code{background:#f3f4f6;border-radius:4px;padding:1px 5px}
label{display:block;font-weight:600;margin:12px 0 4px}select,textarea{width:100%;font:inherit;padding:8px;border:1px solid #9ca3af;border-radius:6px;background:#fff;color:var(--text)}
textarea{font-family:ui-monospace,monospace;min-height:120px}
button{margin-top:12px;background:var(--accent);color:#fff;border:0;border-radius:6px;padding:10px 18px;font:inherit;font-weight:600;cursor:pointer}
button:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
pre{background:#111827;color:#f9fafb;padding:12px;border-radius:6px;overflow:auto;white-space:pre-wrap;word-break:break-word}
.status{color:var(--muted);font-size:.9rem}
</style>
</head>
<body>
<main>
<header>${t.showLogo ? LOGO : ""}<div><h1>${escapeHtml(info.display_name)}</h1>${tagline ? `<p class="tagline">${escapeHtml(tagline)}</p>` : ""}</div></header>
<section aria-labelledby="about"><h2 id="about">About</h2><p>${escapeHtml(info.description ?? "")}</p>
<p class="status">Agent <code>${escapeHtml(info.name)}</code>${info.version ? ` v${escapeHtml(info.version)}` : ""}</p></section>
<section aria-labelledby="caps"><h2 id="caps">Capabilities</h2><ul>${caps}</ul></section>
<section aria-labelledby="try"><h2 id="try">Try it</h2>
<form id="try-form">
<label for="task">Capability</label><select id="task" name="task">${options}</select>
<label for="parameters">Parameters (JSON)</label><textarea id="parameters" name="parameters" spellcheck="false">{}</textarea>
<button type="submit">Run</button>
</form>
<p class="status" id="try-status" role="status" aria-live="polite"></p>
<pre id="try-output" hidden></pre>
<script type="application/json" id="schemas">${JSON.stringify(schemas).replace(/</g, "\\u003c")}</script>
</section>
</main>
<script src="/_assets/try.js" defer></script>
</body>
</html>`;
}

/**
 * Client script for the try-it form: pre-fills parameters from the input
 * schema, posts to `/run` asking for an event stream, shows text pieces as
 * they arrive and then the result (or the error); a JSON answer (an error
 * before the first piece) is shown as it is. Served as a file: the page's CSP
 * allows no inline script.
 */
export const TRY_SCRIPT = `(() => {
  const form = document.getElementById("try-form");
  const status = document.getElementById("try-status");
  const out = document.getElementById("try-output");
  const schemas = JSON.parse(document.getElementById("schemas").textContent || "{}");
  const sample = (s) => {
    if (!s || typeof s !== "object") return "";
    if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
    if (s.type === "object") {
      const o = {};
      for (const k of s.required || []) o[k] = sample((s.properties || {})[k]);
      return o;
    }
    if (s.type === "array") return [];
    if (s.type === "integer" || s.type === "number") return typeof s.minimum === "number" ? s.minimum : 0;
    if (s.type === "boolean") return false;
    return "";
  };
  const prefill = () => { form.parameters.value = JSON.stringify(sample(schemas[form.task.value] || { type: "object" }), null, 2); };
  form.task.addEventListener("change", prefill);
  prefill();
  const show = (text) => { out.textContent = text; out.hidden = false; };
  // Reads the agent's event stream (one "event:" and one "data:" line per event, "\\n" line ends).
  const readStream = async (res, summary) => {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let text = "";
    const onEvent = (name, data) => {
      if (name === "delta") {
        text += typeof data.text === "string" ? data.text : JSON.stringify(data.data) + "\\n";
        show(text);
      } else if (name === "done") {
        const usage = data.usage ? ", " + (data.usage.estimated ? "~" : "") + data.usage.total_tokens + " tokens" : "";
        status.textContent = summary() + usage;
        show((text ? text + "\\n\\n" : "") + "Result:\\n" + JSON.stringify(data.result, null, 2));
      } else if (name === "error") {
        status.textContent = summary() + ": failed with " + data.code + " (HTTP " + data.status + ")";
        show((text ? text + "\\n\\n" : "") + "Error:\\n" + JSON.stringify(data, null, 2));
      }
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\\n\\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trim());
        }
        if (data.length) onEvent(name, JSON.parse(data.join("\\n")));
      }
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let parameters;
    try { parameters = JSON.parse(form.parameters.value || "{}"); }
    catch (e) { status.textContent = "Parameters are not valid JSON: " + e.message; return; }
    status.textContent = "Running…";
    out.textContent = "";
    const started = performance.now();
    try {
      const res = await fetch("/run", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ task: form.task.value, parameters }),
      });
      const summary = () => "HTTP " + res.status + " in " + Math.round(performance.now() - started) + " ms, request " + (res.headers.get("X-Request-Id") || "");
      if ((res.headers.get("Content-Type") || "").startsWith("text/event-stream") && res.body) {
        status.textContent = "Streaming…";
        await readStream(res, summary);
        return;
      }
      const body = await res.json();
      status.textContent = summary();
      show(JSON.stringify(body, null, 2));
    } catch (e) { status.textContent = "Request failed: " + e.message; }
  });
})();`;
