// Entry file: listeners (TLS, WebSocket, Unix sockets, PROXY protocol) and the mosquitto.conf listener blocks.
import './cli/broker-config-listeners.test.ts';
import './transport/tls.test.ts';
import './transport/ws.test.ts';
import './transport/proxy-protocol.test.ts';
import './transport/listener.test.ts';
import './transport/raw-socket.test.ts';
import './transport/stream-events.test.ts';
import './transport/cli.test.ts';
