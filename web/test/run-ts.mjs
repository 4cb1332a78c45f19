// Runs a TypeScript module of the console in Node (Node 20 cannot strip types): Vite bundles it for Node into
// node_modules/.cache, its packages left as imports, then its `run` is called with the JSON file named on the
// command line and what it returns is printed as JSON.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { build } from "vite";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [entry, input] = process.argv.slice(2);
const outDir = join(web, "node_modules/.cache/run-ts");
await build({
  root: web,
  configFile: false,
  logLevel: "silent",
  build: { ssr: resolve(entry), outDir, emptyOutDir: true, rollupOptions: { output: { entryFileNames: "entry.mjs" } } },
});
const module = await import(pathToFileURL(join(outDir, "entry.mjs")).href);
const result = await module.run(JSON.parse(readFileSync(input, "utf8")));
console.log(JSON.stringify(result));
