/**
 * Vite config of the dashboard front end (Preact). Build: `vite build -c
 * dashboard/vite.config.ts` → dashboard/dist, served by Pages with the
 * Functions in dashboard/functions. Dev with hot reload: `npm run
 * dashboard:dev` (port 5173) proxies /api to the Pages dev server that `npm
 * run dev` starts on :8788.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  // Vite 8 transforms TS/JSX with oxc: the automatic runtime, imported from preact.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": {
        target: "http://127.0.0.1:8788",
        // The Functions refuse cross-origin POSTs; to them this proxy is the browser on their own origin.
        configure: (proxy) => proxy.on("proxyReq", (req) => req.removeHeader("origin")),
      },
    },
  },
});
