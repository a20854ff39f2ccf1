/**
 * Pages Functions entry for everything under /api: hands the request to the
 * dashboard API app (functions/_lib/app.ts), which routes, guards and proxies.
 */
import { createDashboardApp } from "../_lib/app";
import type { DashboardEnv } from "../_lib/env";

const app = createDashboardApp();

export const onRequest: PagesFunction<DashboardEnv> = (context) =>
  app.fetch(context.request, context.env, {
    waitUntil: (p) => context.waitUntil(p),
    passThroughOnException: () => context.passThroughOnException(),
    props: {},
  });
