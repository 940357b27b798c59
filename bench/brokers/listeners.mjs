// TLS and WebSocket listeners for Aedes in bench:compare (Culex uses its own, Mosquitto its own): node:tls and ws,
// each accepted connection handed to `handle(stream)` as a Duplex.
// Options (after the broker's own): --tls PORT --cert FILE --key FILE, --ws PORT (path /mqtt, subprotocol mqtt).
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { parseArgs } from 'node:util';
import { WebSocketServer, createWebSocketStream } from 'ws';

export function parseListenerArgs(args) {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true,
    options: { tls: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, ws: { type: 'string' } },
  });
  return { values, positionals };
}

/** Starts the listeners asked for; resolves with a function that closes them. */
export async function startListeners(values, host, handle) {
  const closers = [];
  if (values.tls !== undefined) {
    const server = tls.createServer({ cert: readFileSync(values.cert), key: readFileSync(values.key) }, (socket) => {
      socket.setNoDelay(true);
      socket.on('error', () => {});
      handle(socket);
    });
    await new Promise((resolve, reject) => server.once('error', reject).listen(Number(values.tls), host, resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
  }
  if (values.ws !== undefined) {
    const wss = new WebSocketServer({
      host, port: Number(values.ws), path: '/mqtt', perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
    });
    wss.on('connection', (ws) => {
      const stream = createWebSocketStream(ws);
      stream.on('error', () => {});
      handle(stream);
    });
    await new Promise((resolve, reject) => wss.once('error', reject).once('listening', resolve));
    closers.push(() => new Promise((resolve) => {
      for (const client of wss.clients) client.terminate();
      wss.close(resolve);
    }));
  }
  return () => Promise.all(closers.map((close) => close()));
}
