/**
 * How to reach one agent from outside Zahara's own API: its MCP endpoint (and
 * the gateway's, with every agent), its A2A agent card, and an MCP client
 * configuration to copy (the `mcpServers` entry Cursor and other clients
 * read; Claude Desktop reaches it through `mcp-remote`, see docs/mcp.md).
 * Addresses use the gateway's public URL (`GATEWAY_PUBLIC_URL`); without it,
 * a placeholder the reader replaces.
 */
import { useState } from "preact/hooks";

/** Props of {@link AgentConnect}. */
export interface AgentConnectProps {
  name: string;
  /** The gateway's public URL, or null when the dashboard was not told it. */
  gatewayUrl: string | null;
}

/** The addresses of `name` on the gateway at `base`. */
export function agentAddresses(base: string, name: string) {
  const agent = `${base}/agents/${encodeURIComponent(name)}`;
  return { mcp: `${agent}/mcp`, allMcp: `${base}/mcp`, card: `${agent}/.well-known/agent-card.json`, a2a: agent };
}

/** The MCP client configuration for `name` (a key placeholder, never a real key). */
export function mcpClientConfig(name: string, mcpUrl: string): string {
  const server = { url: mcpUrl, headers: { Authorization: "Bearer <your Zahara API key>" } };
  return JSON.stringify({ mcpServers: { [`zahara-${name}`]: server } }, null, 2);
}

/** The section. */
export function AgentConnect({ name, gatewayUrl }: AgentConnectProps) {
  const [copied, setCopied] = useState<string | undefined>();
  const base = gatewayUrl ?? "https://<your gateway>";
  const urls = agentAddresses(base, name);
  const config = mcpClientConfig(name, urls.mcp);
  async function copy(what: string, text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(what);
    } catch {
      setCopied(`${what}: select and copy it by hand`);
    }
  }
  return (
    <details class="agent-connect" data-testid={`connect-${name}`}>
      <summary>Connect (MCP, A2A)</summary>
      {gatewayUrl ? null : <p class="muted">Set GATEWAY_PUBLIC_URL on the dashboard to show the real addresses.</p>}
      <dl class="facts">
        <div>
          <dt>MCP (this agent)</dt>
          <dd>
            <code>{urls.mcp}</code>
          </dd>
        </div>
        <div>
          <dt>MCP (every agent)</dt>
          <dd>
            <code>{urls.allMcp}</code>
          </dd>
        </div>
        <div>
          <dt>A2A agent card</dt>
          <dd>
            <code>{urls.card}</code>
          </dd>
        </div>
      </dl>
      <p class="muted">An MCP client configuration (Cursor and others; calls need a key with this agent's scopes):</p>
      <pre class="agent-connect__config" aria-label={`MCP client configuration for ${name}`}>
        {config}
      </pre>
      <div class="agent-card__actions">
        <button type="button" class="button button--quiet" onClick={() => void copy("Configuration copied", config)}>
          Copy configuration
        </button>
        <button type="button" class="button button--quiet" onClick={() => void copy("MCP URL copied", urls.mcp)}>
          Copy MCP URL
        </button>
        {copied ? (
          <span role="status" class="muted">
            {copied}
          </span>
        ) : null}
      </div>
    </details>
  );
}
