/**
 * The Zahara extension of an OSSA manifest (`extensions.zahara`) and the extra
 * rules a manifest must follow to be deployed as a Zahara agent.
 *
 * ```yaml
 * extensions:
 *   zahara:
 *     binding: AGENT_DEMO          # gateway service-binding name
 *     service: zahara-agent-demo   # the Worker's script name
 *     dev_port: 3001
 *     branding: { display_name: Zahara Demo Agent, theme: zahara }
 *     chaos: { enabled: false, max_delay_ms: 30000 }
 *     resilience: { ... }          # see zahara-resilience.ts
 *     fallbacks: [agent-custom]
 *     pricing: { input_per_million: 0.15, output_per_million: 0.6 }   # with maxCostPerDay
 * ```
 */
import { z } from "zod";
import type { OssaAgentManifest, OssaExtensions, OssaManifest } from "./ossa";
import type { OssaTool } from "./ossa-agent-spec";
import { ZaharaFallbacksSchema, ZaharaResilienceSchema } from "./zahara-resilience";

/** Capability (function tool) names: snake_case. */
export const CAPABILITY_NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

/** `extensions.zahara.branding` (strict); `theme` defaults to "zahara", `show_logo` to true. */
export const ZaharaBrandingSchema = z.strictObject({
  display_name: z.string().min(1).max(80),
  tagline: z.string().max(200).optional(),
  theme: z.enum(["zahara", "neutral"]).default("zahara"),
  accent_color: z
    .string()
    .regex(/^#[0-9A-Fa-f]{6}$/, { error: 'Invalid accent_color: expected a hex colour like "#1A2B3C"' })
    .optional(),
  show_logo: z.boolean().default(true),
});

/** `extensions.zahara.chaos` (strict): fault injection, off by default. */
export const ZaharaChaosSchema = z.strictObject({
  enabled: z.boolean().default(false),
  max_delay_ms: z.int().min(0).max(60000).default(30000),
});

/**
 * `extensions.zahara.pricing` (strict): what the agent's model costs, in the currency of
 * `spec.constraints.cost.currency`, per million tokens. With `maxCostPerDay` it becomes a daily token budget
 * the agent's guard enforces (docs/manifests.md#safety-and-cost-fields).
 */
export const ZaharaPricingSchema = z
  .strictObject({
    input_per_million: z.number().min(0),
    output_per_million: z.number().min(0),
  })
  .refine((p) => p.input_per_million > 0 || p.output_per_million > 0, {
    error: "Invalid pricing: at least one of input_per_million and output_per_million must be above 0",
  });

/** `extensions.zahara` (strict): how the gateway reaches and presents the agent. */
export const ZaharaExtensionSchema = z.strictObject({
  binding: z.string().regex(/^[A-Z][A-Z0-9_]*$/, {
    error: "Invalid binding: expected an UPPER_SNAKE service-binding name like AGENT_DEMO",
  }),
  service: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
      error: "Invalid service: expected a DNS-1123 Worker name like zahara-agent-demo",
    }),
  dev_port: z.int().min(1024).max(65535).optional(),
  branding: ZaharaBrandingSchema.optional(),
  chaos: ZaharaChaosSchema.optional(),
  resilience: ZaharaResilienceSchema.optional(),
  fallbacks: ZaharaFallbacksSchema.optional(),
  pricing: ZaharaPricingSchema.optional(),
});

/** Parsed `extensions.zahara` (defaults applied). */
export type ZaharaExtension = z.infer<typeof ZaharaExtensionSchema>;
/** `extensions.zahara` as written in a manifest (defaults not yet applied). */
export type ZaharaExtensionInput = z.input<typeof ZaharaExtensionSchema>;
/** Parsed `extensions.zahara.branding`. */
export type ZaharaBranding = z.infer<typeof ZaharaBrandingSchema>;
/** Parsed `extensions.zahara.chaos`. */
export type ZaharaChaos = z.infer<typeof ZaharaChaosSchema>;

/** A valid OSSA manifest that can be deployed as a Zahara agent. */
export type ZaharaAgentManifest = OssaAgentManifest & {
  extensions: OssaExtensions & { zahara: ZaharaExtension };
};

/** A rule violation found by {@link checkZaharaAgent}; `path` is relative to the manifest root. */
export interface ZaharaIssue {
  path: (string | number)[];
  message: string;
}

/** A capability of a Zahara agent: a `spec.tools[]` entry with `type: function`, and its index. */
export interface ZaharaCapabilityTool {
  index: number;
  tool: OssaTool;
}

/** The `spec.tools[]` entries of an agent that are Zahara capabilities (`type: function`). */
export function zaharaCapabilityTools(manifest: OssaAgentManifest): ZaharaCapabilityTool[] {
  return (manifest.spec.tools ?? []).flatMap((tool, index) => (tool.type === "function" ? [{ index, tool }] : []));
}

/** Narrows a valid OSSA manifest to a Zahara agent manifest (kind Agent with `extensions.zahara`). */
export function isZaharaAgentManifest(manifest: OssaManifest): manifest is ZaharaAgentManifest {
  return manifest.kind === "Agent" && manifest.extensions?.zahara !== undefined;
}

/**
 * Why `schema` cannot be used as a capability's input/output schema, or
 * undefined when `z.fromJSONSchema` converts it. A private registry keeps the
 * conversion from registering metadata in zod's global registry.
 */
export function jsonSchemaProblem(schema: unknown): string | undefined {
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    return "Invalid JSON Schema: expected an object";
  }
  try {
    z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema | boolean, { registry: z.registry() });
    return undefined;
  } catch (error) {
    // The converter's message can quote the offending value whole (a long string where a subschema belongs): keep it short.
    const detail = error instanceof Error ? error.message : String(error);
    return `Unsupported JSON Schema: ${detail.length > MAX_PROBLEM_DETAIL ? `${detail.slice(0, MAX_PROBLEM_DETAIL)}…` : detail}`;
  }
}

/** Longest part of a converter's error message an issue quotes. */
const MAX_PROBLEM_DETAIL = 200;

function checkCapabilities(manifest: OssaAgentManifest): ZaharaIssue[] {
  const issues: ZaharaIssue[] = [];
  const capabilities = zaharaCapabilityTools(manifest);
  if (capabilities.length === 0) {
    issues.push({ path: ["spec", "tools"], message: "A Zahara agent needs at least one tool with type: function" });
  }
  const firstIndexByName = new Map<string, number>();
  for (const { index, tool } of capabilities) {
    const at = ["spec", "tools", index];
    if (tool.name === undefined) {
      issues.push({ path: [...at, "name"], message: "Required: a function tool needs a name" });
    } else if (!CAPABILITY_NAME_PATTERN.test(tool.name)) {
      issues.push({
        path: [...at, "name"],
        message: `Invalid capability name "${tool.name}": expected ^[a-z][a-z0-9_]*$`,
      });
    } else {
      const first = firstIndexByName.get(tool.name);
      if (first === undefined) firstIndexByName.set(tool.name, index);
      else
        issues.push({
          path: [...at, "name"],
          message: `Duplicate capability name "${tool.name}" (also spec/tools/${first})`,
        });
    }
    for (const key of ["input_schema", "output_schema"] as const) {
      if (tool[key] === undefined) continue;
      const problem = jsonSchemaProblem(tool[key]);
      if (problem !== undefined) issues.push({ path: [...at, key], message: problem });
    }
  }
  return issues;
}

/**
 * Checks the Zahara deployment rules on a manifest that already passed
 * `OssaManifestSchema`: kind Agent, `extensions.zahara` present, at least one
 * `type: function` tool with a unique snake_case name, convertible
 * `input_schema`/`output_schema`, a `spec.role` or
 * `spec.prompts.system.template`, and no negative `timeoutSeconds`.
 * Returns [] when the manifest is deployable.
 */
export function checkZaharaAgent(manifest: OssaManifest): ZaharaIssue[] {
  const issues: ZaharaIssue[] = [];
  if (manifest.extensions?.zahara === undefined) {
    issues.push({
      path: ["extensions", "zahara"],
      message: "Required: a Zahara agent needs extensions.zahara (binding, service)",
    });
  }
  if (manifest.kind !== "Agent") {
    issues.unshift({ path: ["kind"], message: `A Zahara agent must have kind "Agent", not "${manifest.kind}"` });
    return issues;
  }
  issues.push(...checkCapabilities(manifest));
  // OSSA allows any number; the gateway caps deadlines with it and sizes guard leases from it (a negative one expires them at once).
  const timeout = manifest.spec.constraints?.performance?.timeoutSeconds;
  if (timeout !== undefined && timeout < 0) {
    issues.push({
      path: ["spec", "constraints", "performance", "timeoutSeconds"],
      message: `Invalid timeoutSeconds ${timeout}: a Zahara agent's timeout must not be negative`,
    });
  }
  const template = manifest.spec.prompts?.system?.template;
  if (manifest.spec.role === undefined && (template === undefined || template.trim() === "")) {
    issues.push({
      path: ["spec", "role"],
      message: "Required: a Zahara agent needs spec.role or spec.prompts.system.template",
    });
  }
  return issues;
}
