/**
 * Entry file for MQTT 5 connection, session and authentication features (CONNECT/CONNACK properties, server
 * DISCONNECT reasons, Will Delay, enhanced authentication with SCRAM-SHA-256), over raw sockets and with MQTT.js.
 */
import './integration/20-v5-connect.test.js';
import './broker/scram.test.js';
import './integration/21-v5-server-disconnect.test.js';
import './integration/22-v5-will.test.js';
import './integration/23-v5-enhanced-auth.test.js';
import './integration/24-v5-mqttjs-connection.test.js';
