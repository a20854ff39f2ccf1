/**
 * Turns zod's JIT off in the page. The CSP (public/_headers) has no 'unsafe-eval', and zod, when
 * it builds its first object schema, probes for eval with `Function("")`: refused, a reported CSP
 * violation, then zod's plain path anyway. Imported by ./manifest.ts before the schemas exist.
 */
import { config } from "zod";

config({ jitless: true });
