/** Stage 3, assemble: the interface other stages and commands use. */
export { createAssembler, prepareAssembler, type Assembler, type AssemblerOptions } from './assembler.js';
export type { AssembleResult, Commit, Verdict } from './decide.js';
export type { Issue } from './build.js';
export { checkMapping, loadMappingPlan } from './check.js';
export { resolveMapping, mappedTables, type MappingPlan } from './mapping.js';
export { readMappingCatalog, catalogOf, type MappingCatalog, type MappingTable } from './catalog.js';
export {
  canonicalJson,
  payloadHash,
  splitPolicies,
  vanishedPolicies,
  decideVanished,
  type SentPolicy,
  type PolicyIdentifiers,
} from './records.js';
export { sentStateReader, nothingSent, type SentStateReader, type SentState } from './sent-state.js';
