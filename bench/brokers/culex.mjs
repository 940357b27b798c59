// Culex for bench:compare, from the built dist/: no in-flight window, no queue limit, no write-buffer limit for
// QoS 0 (Mosquitto and Aedes are run without these limits too); optional TLS and WebSocket listeners, Culex's own
// (src/transport/listener.ts, as `culex broker` opens them). Prints "listening <port>" when ready.
// Usage: node culex.mjs PORT [DIST_DIR] [--tls PORT --cert FILE --key FILE] [--ws PORT]
//   DIST_DIR: a build of src/, default ../../dist
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseListenerArgs } from './listeners.mjs';

const { values, positionals } = parseListenerArgs(process.argv.slice(2));
const port = Number(positionals[0] ?? 1883);
const dist = positionals[1] ?? new URL('../../dist', import.meta.url).pathname;
const { createBroker, listen } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const broker = createBroker({ maxInflight: 65_535, maxQueuedMessages: 0, maxWriteBufferBytes: 2 ** 30 });
const address = await broker.listen({ port, host: '127.0.0.1' });
const listeners = [];
if (values.tls !== undefined) {
  const tls = { cert: readFileSync(values.cert), key: readFileSync(values.key) };
  listeners.push(await listen(broker, { port: Number(values.tls), host: '127.0.0.1', tls }));
}
if (values.ws !== undefined) {
  listeners.push(await listen(broker, { port: Number(values.ws), host: '127.0.0.1', protocol: 'websockets' }));
}
process.stdout.write(`listening ${address.port}\n`);
const stop = () => Promise.all([broker.close(), ...listeners.map((l) => l.close())]).finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
