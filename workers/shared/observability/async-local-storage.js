/**
 * The runtime's AsyncLocalStorage (workerd, `nodejs_compat`), re-exported so
 * TypeScript can type it from `async-local-storage.d.ts`: the Workers
 * programs have no Node types, and declaring the `node:async_hooks` module
 * ourselves would clash with @types/node wherever both are loaded.
 */
export { AsyncLocalStorage } from "node:async_hooks";
