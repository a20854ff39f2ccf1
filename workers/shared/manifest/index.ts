/**
 * Manifest handling for Zahara: the OSSA v0.3.x zod schema, the Zahara
 * extension and deployment rules, and the YAML/JSON loader with line numbers.
 */
export * from "./ossa";
export * from "./ossa-common";
export * from "./ossa-agent-spec";
export * from "./ossa-agent-ops";
export * from "./ossa-llm";
export * from "./ossa-messaging";
export * from "./ossa-identity";
export * from "./ossa-runtime";
export * from "./ossa-task-spec";
export * from "./ossa-workflow-spec";
export * from "./zahara";
export * from "./zahara-resilience";
export * from "./load";
export * from "./report";
export * from "./enforcement";
export * from "./hosted";
export * from "./yaml-source";
