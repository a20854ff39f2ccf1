/** `echo`: returns its parameters unchanged. Useful for wiring checks and benchmarks. */
import type { CapabilityHandler } from "../capability";

/** The `echo` capability handler. */
export const echo: CapabilityHandler = function echo(parameters) {
  return { result: parameters };
};
