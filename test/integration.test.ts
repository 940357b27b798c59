/**
 * Entry file for the integration suite: real sockets against an in-process broker, plus MQTT.js and Mosquitto's
 * command-line clients as independent peers. One process for the whole area (see DEPENDENCIES.md, "Tests").
 */
import './integration/01-connect.test.js';
import './integration/02-subscribe.test.js';
import './integration/03-publish.test.js';
import './integration/04-retain.test.js';
import './integration/05-session.test.js';
import './integration/06-will.test.js';
import './integration/07-keepalive.test.js';
import './integration/08-limits.test.js';
import './integration/09-malformed.test.js';
import './integration/10-sys.test.js';
import './integration/11-interop-mqttjs.test.js';
import './integration/12-mosquitto-clients.test.js';
import './integration/backpressure.test.js';
import './integration/wire-forward.test.js';
