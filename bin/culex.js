#!/usr/bin/env node
// Entry point of the `culex` command. The TypeScript sources are compiled to dist/ by `npm ci` / `npm install`
// (the package's `prepare` script) or by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('culex: dist/ is missing; run `npm ci` (or `npm run build`) in the checkout first.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
