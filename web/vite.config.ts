import { defineConfig } from "vite";

// The console is served by timelock-indexer at `/` (web/dist); `/v1` is the same origin.
export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  oxc: { jsx: { runtime: "automatic" } },
  server: { proxy: { "/v1": process.env.TIMELOCK_API ?? "http://127.0.0.1:8790" } },
});
