// Moved to src/demo so the demo (production code) can start a throwaway cluster without importing test/.
export * from '../../src/demo/pg-cluster.js';
