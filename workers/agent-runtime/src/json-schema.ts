/** Capability input/output schemas: JSON Schema from the manifest, checked with zod. */
import { z } from "zod";

/** Compiles a manifest JSON Schema into a zod validator (throws on unsupported keywords). */
export function compileJsonSchema(schema: Record<string, unknown>): z.ZodType {
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
}
