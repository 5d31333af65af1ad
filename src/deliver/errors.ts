import { FatalError } from '../errors.js';

/**
 * CareCycle refused the API key: stop delivering, keep queueing. `unauthorized` (401): the key is
 * missing, wrong, revoked or expired. `forbidden` (403 FORBIDDEN): the key is valid but lacks the
 * permission for this endpoint, which a new key with the right permissions fixes.
 */
export class ApiKeyRejectedError extends FatalError {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly refusal: 'unauthorized' | 'forbidden' = httpStatus === 403 ? 'forbidden' : 'unauthorized',
  ) {
    super(
      refusal === 'forbidden'
        ? `CareCycle accepted the API key but it lacks permission for POST /v2/sync/aca (HTTP ${httpStatus} ${code}): ${message}. Create a key with the sync permission and set carecycle.apiKey / CARECYCLE_API_KEY(_FILE).`
        : `CareCycle rejected the API key (HTTP ${httpStatus} ${code}): ${message}. Check carecycle.apiKey / CARECYCLE_API_KEY(_FILE).`,
    );
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
