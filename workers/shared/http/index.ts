/** Hono building blocks shared by the gateway and the agent runtime. */
export * from "./context";
export * from "./error-handler";
export * from "./json-body";
export * from "./request-context";
export * from "./validation";
