// Bundle use_stream_page.jsx (React + useStream) for the browser with esbuild.
//
//   node build_page.mjs <outdir>     writes <outdir>/page.js, prints {"outfile", "bytes"}

import { build } from "esbuild";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const [outdir] = process.argv.slice(2);
if (!outdir) {
  console.error("usage: node build_page.mjs <outdir>");
  process.exit(2);
}
const outfile = join(outdir, "page.js");
await build({
  entryPoints: [fileURLToPath(new URL("./use_stream_page.jsx", import.meta.url))],
  bundle: true,
  outfile,
  format: "iife",
  platform: "browser",
  target: "chrome120",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "error",
});
process.stdout.write(`${JSON.stringify({ outfile, bytes: statSync(outfile).size })}\n`);
