// The fixtures moved to test/harness/fixtures.ts, the one copy every test folder imports; this
// re-export keeps the test files that still import them from here working until they switch.
export { cli, crmWithState, demoConfig, demoRaw, migrateState, seedCrm, writeConfig, type CliResult } from '../harness/fixtures.js';
