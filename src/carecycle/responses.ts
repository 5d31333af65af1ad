/**
 * Response and error bodies of `POST /v2/sync/aca` (docs/carecycle-api.md, "Rate limit", "Errors",
 * "Responses"). Part of the contract module: import them through `schema.ts`. Unknown keys pass (kept, or
 * dropped where said), since the newer response's exact JSON is not documented (A18) and the API may add
 * fields.
 */
import { z } from 'zod';
import { API_ERROR_CODES } from './enums.js';

/** docs/carecycle-api.md "Responses": one failed record. What `id` is, and whether it can be null, is unknown. */
export const syncErrorItemSchema = z.looseObject({
  id: z.string().nullable().optional(),
  externalId: z.string().nullable().optional(),
  error: z.string(),
});

/**
 * docs/carecycle-api.md "Responses": a policy the request changed; `previousStatus` null means it
 * was just created. Results echo whole customers and policies: other keys pass but are dropped from
 * the parsed value, which saves copying every echoed field of 100 results per response.
 */
export const resultPolicySchema = z.object({
  id: z.string().optional(),
  status: z.string().nullable().optional(),
  /** Absent in answers that do not say; then nothing is concluded from this policy. */
  previousStatus: z.string().nullable().optional(),
  /** The policy's identifiers, when the echo carries them (they tell our policies apart). */
  healthSherpaPolicyId: z.string().nullable().optional(),
  carrierAssignedPolicyId: z.string().nullable().optional(),
});

/**
 * The newer shape: a full customer record (the webhook payload's shape) plus the policies changed.
 * The exact key names are not documented; extra fields pass (dropped, as above). Our stand-in uses
 * `policies`.
 */
export const syncResultSchema = z.object({
  id: z.string(),
  externalId: z.string().nullable().optional(),
  policies: z.array(resultPolicySchema).optional(),
});

/** Both documented success shapes: (a) without `results`, (b) with it. */
export const syncResponseSchema = z.looseObject({
  succeeded: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errors: z.array(syncErrorItemSchema),
  results: z.array(syncResultSchema).optional(),
});

/**
 * What the daemon reads from any 2xx JSON object, whatever its exact shape: a 2xx means the
 * request was applied, so a renamed or missing field must not turn it into a retry. Counts are
 * kept only when they are numbers; error items name their record by `externalId` (or only by
 * `id`) and say why in `error` or `message`; results that cannot be read are left out.
 */
export interface SyncAnswer {
  succeeded?: number;
  failed?: number;
  errors: Array<{ id: string | null; externalId: string | null; error: string }>;
  results?: SyncResult[];
}

const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

function readErrorItem(raw: unknown): SyncAnswer['errors'][number] {
  const o = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const said = text(o.error) ?? text(o.message) ?? text(o.reason);
  return { id: text(o.id), externalId: text(o.externalId), error: said ?? 'CareCycle reported this record as failed without a reason' };
}

/** Pure: the readable parts of a 2xx body, or undefined when it is not a JSON object. */
export function readSyncAnswer(json: unknown): SyncAnswer | undefined {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const answer: SyncAnswer = { errors: Array.isArray(o.errors) ? o.errors.map(readErrorItem) : [] };
  const succeeded = count(o.succeeded);
  const failed = count(o.failed);
  if (succeeded !== undefined) answer.succeeded = succeeded;
  if (failed !== undefined) answer.failed = failed;
  if (Array.isArray(o.results)) {
    answer.results = o.results.flatMap((r) => {
      const p = syncResultSchema.safeParse(r);
      return p.success ? [p.data] : [];
    });
  }
  return answer;
}

/** docs/carecycle-api.md "Errors": every error body. */
export const apiErrorBodySchema = z.looseObject({
  message: z.string(),
  code: z.string(),
});

/** docs/carecycle-api.md "Rate limit": the 429 body; `retryAfter` in seconds. */
export const rateLimitBodySchema = apiErrorBodySchema.extend({
  code: z.literal('RATE_LIMIT_EXCEEDED'),
  retryAfter: z.number().nonnegative(),
});

/** docs/carecycle-api.md "Errors": one validation issue, laid out like a zod issue. */
export const validationIssueSchema = z.looseObject({
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
  expected: z.string().optional(),
  received: z.string().optional(),
  code: z.string().optional(),
});

export const validationErrorBodySchema = apiErrorBodySchema.extend({
  code: z.literal('VALIDATION_ERROR'),
  errors: z.array(validationIssueSchema),
});

/** The documented codes, for building bodies; parsing accepts any string code. */
export const apiErrorCodeSchema = z.enum(API_ERROR_CODES);

export type SyncErrorItem = z.infer<typeof syncErrorItemSchema>;
export type SyncResultPolicy = z.infer<typeof resultPolicySchema>;
export type SyncResult = z.infer<typeof syncResultSchema>;
export type SyncResponse = z.infer<typeof syncResponseSchema>;
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;
export type RateLimitBody = z.infer<typeof rateLimitBodySchema>;
export type ValidationIssue = z.infer<typeof validationIssueSchema>;
export type ValidationErrorBody = z.infer<typeof validationErrorBodySchema>;
