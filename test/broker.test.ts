// Area entry: broker unit tests (data structures, no sockets).
import './broker/subscription-trie.test.js';
import './broker/durable-acks.test.js';
import './broker/output.test.js';
import './broker/flush.test.js';
import './broker/fair-turns.test.js';
import './broker/retained.test.js';
import './broker/level-map.test.js';
import './common/inflight-table.test.js';
