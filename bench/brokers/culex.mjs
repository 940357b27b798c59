// Culex for bench:compare, from the built dist/: no in-flight window, no queue limit, no write-buffer limit for
// QoS 0 (Mosquitto and Aedes are run without these limits too). Prints "listening <port>" when ready.
// Usage: node culex.mjs PORT [DIST_DIR]   (DIST_DIR: a build of src/, default ../../dist)
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const port = Number(process.argv[2] ?? 1883);
const dist = process.argv[3] ?? new URL('../../dist', import.meta.url).pathname;
const { createBroker } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const broker = createBroker({ maxInflight: 65_535, maxQueuedMessages: 0, maxWriteBufferBytes: 2 ** 30 });
await broker.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
const stop = () => broker.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
