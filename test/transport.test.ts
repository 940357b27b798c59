// Entry file: listeners (TLS, WebSocket, Unix sockets, PROXY protocol) and the mosquitto.conf listener blocks.
import './cli/broker-config-listeners.test.ts';
