/**
 * Entry file for the client library tests: units, store conformance, and the one client suite run against the
 * Culex broker and a real Mosquitto.
 */
import './client/units.test.js';
import './client/store.test.js';
import './client/suite.test.js';
import './client/mqtt5.test.js';
import './client/tls-ws.test.js';
import './client/readme.test.js';
import './client/raw-server.test.js';
