/**
 * Entry file for the persistence area: the conformance suite on each store, and the broker restart over a shared
 * store (an integration test, run from here so the integration entry file stays with its owner).
 */
/* oxlint-disable import/no-unassigned-import -- importing a test file registers its tests */
import './persistence/memory.test.js';
import './persistence/lmdb.test.js';
import './persistence/lmdb-store.test.js';
import './persistence/lmdb-write-queue.test.js';
import './persistence/lmdb-segments.test.js';
import './persistence/write-queue-model.test.js';
import './persistence/outbound-record.test.js';
import './persistence/crash.test.js';
import './integration/13-store-restart.test.js';
