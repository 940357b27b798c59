/**
 * The persistence conformance suite on the in-memory store. A restart is the same instance closed and opened
 * again: that is the only restart the memory store survives (a new broker given the same instance).
 */
import { MemoryPersistence } from '../../src/persistence/memory/memory-persistence.js';
import { persistenceConformance } from '../conformance/persistence.js';

persistenceConformance('memory', async () => {
  const store = new MemoryPersistence();
  return { store, reopen: async () => store };
});
