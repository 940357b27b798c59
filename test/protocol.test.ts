/** Area entry for the protocol codec: `node --import tsx --test test/protocol.test.ts` runs every file below. */
import './protocol/decoder.test.js';
import './protocol/topic.test.js';
import './protocol/encoder.test.js';
import './protocol/fixtures.test.js';
import './protocol/property.test.js';
import './protocol/differential.test.js';
