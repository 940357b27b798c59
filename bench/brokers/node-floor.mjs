// Not a broker: the least a Node server can do per MQTT connection (accept it, take one read, write a 4-byte
// CONNACK), to measure what Node's own socket handling costs before any broker code runs. Culex's CPU per
// connection in `culex bench conn` is this plus its own work; Mosquitto's is below this.
// Usage: node node-floor.mjs PORT, then: culex bench conn -c 10000 -p PORT --pid <its pid>
import net from 'node:net';

const port = Number(process.argv[2] ?? 1883);
const connack = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const server = net.createServer({ noDelay: true }, (socket) => {
  socket.once('data', () => socket.write(connack));
  socket.on('error', () => undefined);
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
