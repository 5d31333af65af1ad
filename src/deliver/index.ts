export {
  createDeliveryClient,
  type DeliveryClient,
  type DeliveryClientOptions,
  type DeliveryItem,
  type RecordOutcome,
  type RequestObservation,
} from './client.js';
export { ApiKeyRejectedError, EndpointError } from './errors.js';
export { createUndiciTransport, type HttpTransport, type HttpResponse } from './transport.js';
export { RateLimiter, nextSlot, type LimiterConfig } from './limiter.js';
export { classifyResponse, type Verdict } from './classify.js';
export { backoffDelayMs, type BackoffConfig } from './backoff.js';
export { planWaves, splitPlan } from './plan.js';
export { stateLedger, recordedBudget, type RequestLedger, type RecordedBudget } from './ledger.js';
