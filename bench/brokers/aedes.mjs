// Aedes 1.x for bench:compare: in-memory persistence and emitter (its defaults), TCP with Nagle off; optional TLS
// and WebSocket listeners (listeners.mjs). Prints "listening <port>" when ready.
// Usage: node aedes.mjs PORT [--tls PORT --cert FILE --key FILE] [--ws PORT]
import net from 'node:net';
import { Aedes } from 'aedes';
import { parseListenerArgs, startListeners } from './listeners.mjs';

const { values, positionals } = parseListenerArgs(process.argv.slice(2));
const port = Number(positionals[0] ?? 1883);
const broker = await Aedes.createBroker();
const server = net.createServer({ noDelay: true }, broker.handle);
const closeListeners = await startListeners(values, '127.0.0.1', (stream) => broker.handle(stream));
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
const stop = () => closeListeners().finally(() => server.close(() => broker.close(() => process.exit(0))));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
