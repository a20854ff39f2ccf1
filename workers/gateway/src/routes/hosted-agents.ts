/**
 * Hosted agents (admin scope; mount with `app.route("/v1/agents", hostedAgentRoutes(directory))`):
 *
 * - `GET    /v1/agents`: the hosted agents and the limits.
 * - `PUT    /v1/agents/:agent`: upload a manifest (`application/yaml` or `application/json`) as a new version,
 *   served at once by this isolate and by every other within `HOSTED_AGENTS_REFRESH_MS`. `If-Match: "<version>"`
 *   or `If-None-Match: *` make it conditional (412 `VERSION_CONFLICT`).
 * - `GET    /v1/agents/:agent/versions` and `/versions/:version` (the upload as sent).
 * - `POST   /v1/agents/:agent/rollback` `{version}`: serve a kept version again.
 * - `DELETE /v1/agents/:agent`.
 *
 * Every change, and every refused race or limit, is audited (`agent.deploy`, `agent.rollback`, `agent.delete`).
 * The manifest is checked by shared/manifest/hosted.ts, in the hosted-agent Worker (hosted/check.ts): the same
 * messages and lines as `npm run manifests:check`.
 */
import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import { ZaharaError } from "../../../shared/errors";
import { readLimited } from "../../../shared/http/json-body";
import { parseJsonBody } from "../../../shared/http/validation";
import { sha256Hex } from "../../../shared/sha256";
import { resolveHostedConfig } from "../hosted/config";
import type { AgentDirectory } from "../hosted/directory";
import { listAgents, listVersions, readAgent, readVersion } from "../hosted/queries";
import type { HostedAgentView } from "../hosted/types";
import { type Precondition, auditRefusal, deleteAgent, putVersion, setCurrent } from "../hosted/store";
import { UPLOAD_TYPES } from "../../../shared/manifest/hosted-names";
import { checkUpload } from "../hosted/check";
import { auditOf } from "./keys";

/** `POST /v1/agents/:agent/rollback`: the kept version to serve again. */
export const RollbackSchema = z.object({ version: z.int().check(z.positive()) });

/** An agent name: what OSSA allows in `metadata.name` (DNS-1123, at most 63 characters). */
const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

type HostedContext = Context<{ Bindings: Env }>;

/** Runs a store call; a D1 fault is 503 `HOSTED_AGENTS_UNAVAILABLE` (cause logged, never sent). */
async function withStore<T>(c: HostedContext, what: string, run: (db: D1Database) => Promise<T>): Promise<T> {
  const db = c.env.ACCESS_DB;
  if (!db) throw new ZaharaError("HOSTED_AGENTS_UNAVAILABLE", { message: "No ACCESS_DB binding on this gateway" });
  try {
    return await run(db);
  } catch (err) {
    if (err instanceof ZaharaError) throw err;
    c.get("logger").error(`hosted agents: ${what} failed`, { error: err instanceof Error ? err.message : String(err) });
    throw new ZaharaError("HOSTED_AGENTS_UNAVAILABLE", { cause: err, headers: { "Retry-After": "1" } });
  }
}

/** The `:agent` of the path, checked against the naming rule. */
function agentName(c: HostedContext): string {
  const name = c.req.param("agent") ?? "";
  if (!NAME.test(name)) {
    throw new ZaharaError("INVALID_REQUEST", {
      message: `Invalid agent name "${name.slice(0, 64)}": lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit`,
    });
  }
  return name;
}

/** A version number from the path or a header; 400 unless a positive integer. */
function versionNumber(value: string | undefined, where: string): number {
  const n = Number(value);
  if (value === undefined || !/^[1-9][0-9]{0,8}$/.test(value) || !Number.isSafeInteger(n)) {
    throw new ZaharaError("INVALID_REQUEST", { message: `${where} must be a version number (1, 2, …)` });
  }
  return n;
}

/** `If-Match: "3"` (or `3`, `W/"3"`), `If-None-Match: *`, or neither. */
function precondition(c: HostedContext): Precondition {
  const match = c.req.header("If-Match");
  const noneMatch = c.req.header("If-None-Match");
  if (match !== undefined && noneMatch !== undefined) {
    throw new ZaharaError("INVALID_HEADER", { message: "Send If-Match or If-None-Match, not both" });
  }
  if (noneMatch !== undefined) {
    if (noneMatch.trim() !== "*") throw new ZaharaError("INVALID_HEADER", { message: 'If-None-Match must be "*"' });
    return { kind: "absent" };
  }
  if (match === undefined) return { kind: "none" };
  const tag = /^\s*(?:W\/)?"?([0-9]+)"?\s*$/.exec(match)?.[1];
  if (tag === undefined) throw new ZaharaError("INVALID_HEADER", { message: 'If-Match must be a version, as in "3"' });
  return { kind: "match", version: versionNumber(tag, "If-Match") };
}

/** The upload's text, within the size limit, as UTF-8. */
async function uploadText(c: HostedContext, maxBytes: number): Promise<{ text: string; mediaType: string }> {
  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (UPLOAD_TYPES[mediaType] === undefined) {
    throw new ZaharaError("UNSUPPORTED_MEDIA_TYPE", {
      message: "Send the manifest as application/yaml or application/json",
    });
  }
  const bytes = await readLimited(c.req.raw, maxBytes);
  try {
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes), mediaType };
  } catch {
    throw new ZaharaError("INVALID_MANIFEST", { message: "The manifest is not UTF-8 text" });
  }
}

/** Creates the hosted-agent admin routes. */
export function hostedAgentRoutes(directory: AgentDirectory, now: () => number = Date.now) {
  const routes = new Hono<{ Bindings: Env }>();

  routes.get("/", async function listHosted(c) {
    const config = resolveHostedConfig(c.env);
    const agents = await withStore(c, "list", listAgents);
    const limits = {
      max_agents: config.maxAgents,
      max_versions: config.versionsKept,
      max_manifest_bytes: config.maxBytes,
    };
    return c.json({ agents, limits, request_id: c.get("requestId") });
  });

  routes.put("/:agent", async function deploy(c) {
    const name = agentName(c);
    if (directory.isCompiled(name)) {
      throw new ZaharaError("AGENT_NAME_TAKEN", {
        message: `"${name}" is an agent deployed as a Worker; a hosted agent needs another name`,
      });
    }
    const config = resolveHostedConfig(c.env);
    const pre = precondition(c);
    const { text, mediaType } = await uploadText(c, config.maxBytes);
    // Checked by the hosted-agent Worker (hosted/check.ts); fields Zahara does not enforce as configured.
    const upload = { text, name, mediaType, unenforced: config.unenforced };
    const checked = await checkUpload(c.env, upload, c.get("requestId"));
    if (!checked.ok) {
      throw new ZaharaError("INVALID_MANIFEST", {
        message: `The manifest has ${checked.issues.length} problem(s)`,
        details: { issues: checked.issues, warnings: checked.warnings },
      });
    }
    const manifest = JSON.stringify(checked.manifest);
    const digest = await sha256Hex(manifest);
    const audit = auditOf(c, "agent.deploy", name, { digest, bytes: new TextEncoder().encode(text).byteLength });
    const at = now();
    const limits = { maxAgents: config.maxAgents, versionsKept: config.versionsKept };
    const outcome = await withStore(c, "deploy", (db) =>
      putVersion(db, { name, source: text, contentType: mediaType, manifest, digest }, pre, limits, audit, at),
    );
    if (!outcome.ok) {
      const refused = { ...audit, details: { ...audit.details, refused: outcome.reason } };
      await withStore(c, "audit", (db) => auditRefusal(db, refused, at));
      if (outcome.reason === "limit") {
        throw new ZaharaError("HOSTED_AGENT_LIMIT", {
          message: `This gateway holds ${config.maxAgents} hosted agents, its limit (HOSTED_AGENTS_MAX)`,
        });
      }
      throw new ZaharaError("VERSION_CONFLICT", {
        message:
          outcome.current === null
            ? `No hosted agent "${name}" is served`
            : `"${name}" is at version ${outcome.current}`,
        details: { current_version: outcome.current },
      });
    }
    directory.invalidate();
    // The version this upload made, as served (a racing upload may already serve a later one). The count of kept
    // versions is read after the change; the change is done, so a failed read only leaves that count out.
    const listed = await withStore(c, "read", (db) => readAgent(db, name)).catch(() => undefined);
    const agent: HostedAgentView = {
      name,
      display_name: checked.manifest.extensions.zahara.branding?.display_name ?? name,
      version: outcome.version,
      versions: listed?.versions ?? 1,
      updated_at: new Date(at).toISOString(),
      updated_by: audit.actor,
      digest,
    };
    c.header("ETag", `"${outcome.version}"`);
    const body = { agent, created: outcome.created, warnings: checked.warnings, request_id: c.get("requestId") };
    return c.json(body, outcome.created ? 201 : 200);
  });

  routes.get("/:agent/versions", async function versions(c) {
    const name = agentName(c);
    const found = await withStore(c, "versions", (db) => listVersions(db, name));
    if (!found) throw new ZaharaError("AGENT_NOT_FOUND", { message: `No hosted agent named "${name}"` });
    return c.json({ agent: name, ...found, request_id: c.get("requestId") });
  });

  routes.get("/:agent/versions/:version", async function version(c) {
    const name = agentName(c);
    const n = versionNumber(c.req.param("version"), "The version");
    const found = await withStore(c, "version", (db) => readVersion(db, name, n));
    if (!found) throw new ZaharaError("VERSION_NOT_FOUND", { message: `"${name}" has no version ${n} kept` });
    return c.json({ agent: name, version: n, ...found, request_id: c.get("requestId") });
  });

  routes.post("/:agent/rollback", async function rollback(c) {
    const name = agentName(c);
    const { version } = await parseJsonBody(c.req.raw, RollbackSchema, { maxBytes: 1024 });
    const before = await withStore(c, "versions", (db) => listVersions(db, name));
    if (!before) throw new ZaharaError("AGENT_NOT_FOUND", { message: `No hosted agent named "${name}"` });
    const audit = auditOf(c, "agent.rollback", name, { from: before.current, to: version });
    const done = await withStore(c, "rollback", (db) => setCurrent(db, name, version, audit, now()));
    if (!done) {
      throw new ZaharaError("VERSION_NOT_FOUND", {
        message: `"${name}" has no version ${version} kept`,
        details: { versions: before.versions.map((v) => v.version) },
      });
    }
    directory.invalidate();
    const agent = await withStore(c, "read", (db) => readAgent(db, name));
    return c.json({ agent, rolled_back_from: before.current, request_id: c.get("requestId") });
  });

  routes.delete("/:agent", async function remove(c) {
    const name = agentName(c);
    const audit = auditOf(c, "agent.delete", name);
    const done = await withStore(c, "delete", (db) => deleteAgent(db, name, audit, now()));
    if (!done) throw new ZaharaError("AGENT_NOT_FOUND", { message: `No hosted agent named "${name}"` });
    directory.invalidate();
    return c.json({ deleted: name, request_id: c.get("requestId") });
  });

  return routes;
}
