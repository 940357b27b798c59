// Not a broker: the least a Node server can do per MQTT connection (accept it, take one read, write a 4-byte
// CONNACK), to measure what Node's own socket handling costs before any broker code runs. Culex's CPU per
// connection in `culex bench conn` is this plus its own work.
//   node node-floor.mjs PORT          with a net.Socket per connection (what a Node server pays by default)
//   node node-floor.mjs PORT --raw    on libuv's bare TCP handle, as Culex's listener serves plain TCP
//                                     (src/transport/raw-socket.ts): the floor under Culex's own work
// then: culex bench conn -c 10000 -p PORT --pid <its pid>
import net from 'node:net';

const port = Number(process.argv[2] ?? 1883);
const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);

/** What every accepted bare handle reads with: answers the first bytes with a CONNACK, closes at the end. */
function onRawRead() {
  const { streamBaseState, kReadBytesOrError } = rawBinding;
  const count = streamBaseState[kReadBytesOrError];
  if (count > 0) {
    const req = new rawBinding.WriteWrap();
    req.handle = this;
    req.oncomplete = ignore;
    this.writeBuffer(req, connack);
  } else if (count < 0) {
    this.close(ignore);
  }
}

function ignore() {}

// The calls `net` makes underneath (process.binding is deprecated as DEP0111, documentation-only).
const rawBinding = process.argv.includes('--raw') ? process.binding('stream_wrap') : undefined;

if (rawBinding !== undefined) {
  const { TCP, constants } = process.binding('tcp_wrap');
  const server = new TCP(constants.SERVER);
  const failed = server.bind('127.0.0.1', port) || server.listen(511);
  if (failed !== 0) throw new Error(`cannot listen on ${port}: ${failed}`);
  server.onconnection = (status, handle) => {
    if (status !== 0 || handle === undefined) return;
    handle.setNoDelay(true);
    handle.onread = onRawRead;
    handle.readStart();
  };
  const out = {};
  server.getsockname(out);
  process.stdout.write(`listening ${out.port}\n`);
} else {
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.once('data', () => socket.write(connack));
    socket.on('error', () => undefined);
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
}
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
