// Culex for bench:compare, from the built dist/: no in-flight window, no queue limit, no write-buffer limit for
// QoS 0 (Mosquitto and Aedes are run without these limits too); optional TLS and WebSocket listeners (listeners.mjs,
// the same code Aedes gets). Prints "listening <port>" when ready.
// Usage: node culex.mjs PORT [DIST_DIR] [--tls PORT --cert FILE --key FILE] [--ws PORT]
//   DIST_DIR: a build of src/, default ../../dist
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseListenerArgs, startListeners } from './listeners.mjs';

const { values, positionals } = parseListenerArgs(process.argv.slice(2));
const port = Number(positionals[0] ?? 1883);
const dist = positionals[1] ?? new URL('../../dist', import.meta.url).pathname;
const { createBroker } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const broker = createBroker({ maxInflight: 65_535, maxQueuedMessages: 0, maxWriteBufferBytes: 2 ** 30 });
const address = await broker.listen({ port, host: '127.0.0.1' });
const closeListeners = await startListeners(values, '127.0.0.1', (stream) => broker.handle(stream));
process.stdout.write(`listening ${address.port}\n`);
const stop = () => closeListeners().then(() => broker.close()).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
