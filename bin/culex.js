#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point of the `culex` command. The TypeScript sources are compiled to dist/ by `npm ci` / `npm install`
// (the package's `prepare` script) or by `npm run build`.
// --max-semi-space-size=4 caps V8's young generation at 4 MiB per semi-space (the default lets it grow to 16):
// a burst of connections or messages otherwise leaves the broker ~20-30 MB larger until a later GC. It cost nothing
// measurable in the main throughput and latency benchmarks, but it does under a heavy QoS 1 load with persistent
// sessions (see README, "Memory"). `npm start` passes it too.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/index.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('culex: dist/ is missing; run `npm ci` (or `npm run build`) in the checkout first.\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
