/**
 * Entry file for the MQTT 5 suite: the message-routing features over real sockets, with raw packets and MQTT.js.
 */
import './mqtt5/shared.test.js';
import './mqtt5/subscription-ids.test.js';
import './mqtt5/publish.test.js';
import './mqtt5/mqttjs-limits.test.js';
