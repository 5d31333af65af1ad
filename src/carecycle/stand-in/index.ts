export { startStandIn, type StandIn, type StandInOptions, type RequestLogEntry } from './server.js';
export { Faults, type FaultSettings } from './faults.js';
export { StandInStore, type StoredCustomer, type StoredPolicy } from './store.js';
export { maxInAnyWindow } from './rate-window.js';
export { ANSWER_SHAPES, ERROR_ITEM_FORMS, type AnswerShape, type ErrorItemForm } from './answer-shapes.js';
