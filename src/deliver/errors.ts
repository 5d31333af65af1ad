import { FatalError } from '../errors.js';

/** CareCycle refused the API key (401 UNAUTHORIZED / 403 FORBIDDEN): stop delivering, keep queueing. */
export class ApiKeyRejectedError extends FatalError {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
  ) {
    super(`CareCycle rejected the API key (HTTP ${httpStatus} ${code}): ${message}. Check carecycle.apiKey / CARECYCLE_API_KEY and its permissions.`);
    // FatalError types `name` as a literal; the subclass name still helps in logs.
    Object.defineProperty(this, 'name', { value: 'ApiKeyRejectedError' });
  }
}

/** The endpoint is not there (404/405/410, a redirect): the base URL is probably wrong. */
export class EndpointError extends FatalError {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(`CareCycle answered HTTP ${httpStatus} for POST /v2/sync/aca: ${message}`);
    Object.defineProperty(this, 'name', { value: 'EndpointError' });
  }
}
