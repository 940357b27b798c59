// Aedes 1.x for bench:compare: in-memory persistence and emitter (its defaults), TCP with Nagle off.
// Prints "listening <port>" when ready.
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 1883);
const broker = await Aedes.createBroker();
const server = net.createServer({ noDelay: true }, broker.handle);
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
const stop = () => server.close(() => broker.close(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
