/**
 * The CareCycle `POST /v2/sync/aca` contract as zod schemas: the one module the assembler, the
 * delivery client and the stand-in all import. Facts and assumptions: docs/carecycle-api.md
 * ("Errors", "Request", "Customer fields", "Policy fields", "Responses", and the assumptions).
 *
 * Where a constraint is not documented, the field is kept and accepts a string of
 * at most 255 characters (our strict stand-in then catches anything absurd). Where it documents
 * one, we enforce it exactly, choosing the stricter reading when two snapshots disagree
 * (postalCode: exactly 5 characters, from the old fumadocs snapshot).
 *
 * Objects are strict (unknown keys rejected): a mapping typo such as `clientCustomerId` or
 * `policyType` must fail here, before it costs an API call, instead of being silently dropped.
 * Optional fields also accept `null` (the documentation marks customer fields nullable; for policy
 * fields nullability is not documented, and a NULL CRM column has to be sendable somehow).
 */
import { z } from 'zod';
import {
  GENDERS,
  MARITAL_STATUSES,
  MAX_CUSTOM_FIELDS_PER_RECORD,
  MAX_POLICIES_PER_RECORD,
  MAX_RECORDS_PER_REQUEST,
  METAL_LEVELS,
  POLICY_STATUSES,
  TIMEZONE_ABBREVIATIONS,
} from './enums.js';
import { objectCheck } from './quick-check.js';

// ---------------------------------------------------------------- field formats

/** "Customer fields": the three accepted phone formats, nothing else (no dashes-only, no spaces). */
export const PHONE_PATTERN = /^(?:\+1\d{10}|\d{10}|\(\d{3}\) \d{3}-\d{4})$/;

/** "Customer fields" regex, verbatim: each separator checked on its own, days not checked against months. */
export const DATE_OF_BIRTH_PATTERN = /^(0[1-9]|1[0-2])[-/](0[1-9]|[12]\d|3[01])[-/]\d{4}$/;

/**
 * Policy dates (effectiveDate, terminationDate, …): the format is not documented (A10). We
 * accept the one date format the API does document, dateOfBirth's MM-DD-YYYY / MM/DD/YYYY, and
 * ISO YYYY-MM-DD, which sync.policyDateFormat can choose; the assembler sends the one configured.
 */
export const POLICY_DATE_PATTERN = /^(?:(0[1-9]|1[0-2])[-/](0[1-9]|[12]\d|3[01])[-/]\d{4}|\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))$/;

/**
 * Money strings (monthlyPremium, commissions, subsidyAmount, …): the format is NOT documented
 * (A11). We choose plain decimal: optional minus, digits, at most two decimals ("123.45",
 * "-5", "0.5"); no currency sign, no thousands separator, no exponent.
 */
export const MONEY_PATTERN = /^-?\d+(\.\d{1,2})?$/;

/**
 * "Customer fields": an IANA zone name (Area/Location, e.g. America/Argentina/Buenos_Aires) or one of
 * the four documented abbreviations. "UTC" and Alaska/Hawaii abbreviations are not documented.
 */
export const IANA_TIMEZONE_PATTERN = /^[A-Z][A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)+$/;

// ---------------------------------------------------------------- building blocks

const str = (max: number) => z.string().max(max, `at most ${max} characters`);
const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();
/** Unknown constraint: keep the field, accept a string up to 255 (see header). */
const unknownStr = () => opt(str(255));
const int32 = () => opt(z.int32('must be a 32-bit integer'));
const bool = () => opt(z.boolean());
const policyDate = () => opt(z.string().regex(POLICY_DATE_PATTERN, 'must be a date as MM-DD-YYYY, MM/DD/YYYY or YYYY-MM-DD'));
const money = () => opt(z.string().regex(MONEY_PATTERN, 'must be a decimal amount like 123.45 (no $ or commas)'));

const timezone = z
  .string()
  .max(255, 'at most 255 characters')
  .refine(
    (v) => IANA_TIMEZONE_PATTERN.test(v) || (TIMEZONE_ABBREVIATIONS as readonly string[]).includes(v),
    `must be an IANA time zone (e.g. America/New_York) or one of ${TIMEZONE_ABBREVIATIONS.join(', ')}`,
  );

// ---------------------------------------------------------------- request

/** "Policy fields": one ACA policy. No policy field is documented as required. */
export const acaPolicySchema = z.strictObject({
  planName: unknownStr(),
  planCode: unknownStr(),
  carrierName: unknownStr(),
  effectiveDate: policyDate(),
  enrollmentDate: policyDate(),
  aorNpn: unknownStr(),
  writingAgentNpn: unknownStr(),
  policyNumber: unknownStr(),
  policySubType: opt(str(100)),
  applicationId: unknownStr(),
  planState: opt(str(2)),
  planCounty: unknownStr(),
  carrierAssignedPolicyId: unknownStr(),
  /** Omitted → the server stores `Active` ("Request"). */
  status: opt(z.enum(POLICY_STATUSES)),
  applicationApprovalDate: policyDate(),
  terminationDate: policyDate(),
  renewalDate: policyDate(),
  cancelledDate: policyDate(),
  /** Enum with an unknown list; `IEP` is the one documented value. */
  electionPeriod: unknownStr(),
  aorFirstName: unknownStr(),
  aorLastName: unknownStr(),
  writingAgentName: unknownStr(),
  sepType: unknownStr(),
  sepCode: unknownStr(),
  sepStartDate: policyDate(),
  sepEndDate: policyDate(),
  sepDocumentationReceived: bool(),
  sepDocumentationDate: policyDate(),
  sepNotes: unknownStr(),
  monthlyPremium: money(),
  deductible: money(),
  outOfPocketMax: money(),
  initialCommission: money(),
  renewalCommission: money(),
  spifAmount: money(),
  policyLives: int32(),
  wasAgent: bool(),
  /** Enum with an unknown list; `New Business` is the one documented value. */
  writtenAs: unknownStr(),
  /** A string in the documented example, not a boolean ("Policy fields"). */
  isReplacing: unknownStr(),
  isRewrite: bool(),
  reasonForPurchase: unknownStr(),
  policyNotes: unknownStr(),
  healthSherpaPolicyId: unknownStr(),
  hiosId: unknownStr(),
  metalLevel: opt(z.enum(METAL_LEVELS)),
  gracePeriodStartDate: policyDate(),
  paidThroughDate: policyDate(),
  ffmApplicationId: unknownStr(),
  ffmSubscriberId: unknownStr(),
  subsidyAmount: money(),
  usingSubsidy: bool(),
  /** Enum with an unknown list; `Monthly` is the one documented value. */
  premiumMode: unknownStr(),
  grossPremium: money(),
  netPremium: money(),
  /** Enum with an unknown list; `FFM` is the one documented value. */
  exchangeStatus: unknownStr(),
});

/** "Request": `{fieldKey, value}`; lengths and required-ness not documented (A13), so strings ≤ 255. */
export const customFieldSchema = z.strictObject({
  fieldKey: str(255).min(1, 'must not be empty'),
  value: z.string().max(255, 'at most 255 characters').nullable(),
});

const customerShape = z.strictObject({
  firstName: str(255).min(1, 'must not be empty'),
  lastName: str(255).min(1, 'must not be empty'),
  phoneNumber: z.string().regex(PHONE_PATTERN, 'must be +1XXXXXXXXXX, XXXXXXXXXX or (XXX) XXX-XXXX'),
  email: opt(str(255)),
  postalCode: opt(z.string().length(5, 'must be exactly 5 characters')),
  timezone: opt(timezone),
  state: opt(str(50)),
  city: opt(str(255)),
  county: opt(str(255)),
  address: opt(str(255)),
  address2: opt(str(255)),
  dateOfBirth: opt(z.string().regex(DATE_OF_BIRTH_PATTERN, 'must be MM-DD-YYYY or MM/DD/YYYY')),
  language: opt(str(50)),
  gender: opt(z.enum(GENDERS)),
  maritalStatus: opt(z.enum(MARITAL_STATUSES)),
  filingStatus: opt(str(50)),
  dependentCount: int32(),
  householdIncome: int32(),
  isDecisionMaker: bool(),
  medicaid: bool(),
  medicaidNumber: opt(str(255)),
  veteran: bool(),
  vaNumber: opt(str(255)),
  socialSecurityDisability: bool(),
  carrierAssignedCustomerId: opt(str(255)),
  doNotCall: bool(),
  doNotSMS: bool(),
  doNotEmail: bool(),
  doNotMail: bool(),
  healthSherpaCustomerId: opt(str(255)),
  /** Length not documented (A13); the stored clientCustomerId is ≤ 255 on the customer PATCH endpoint. */
  externalId: opt(str(255).min(1, 'must not be empty')),
  customFields: opt(z.array(customFieldSchema).max(MAX_CUSTOM_FIELDS_PER_RECORD, `at most ${MAX_CUSTOM_FIELDS_PER_RECORD} custom fields`)),
  policies: opt(z.array(acaPolicySchema).max(MAX_POLICIES_PER_RECORD, `at most ${MAX_POLICIES_PER_RECORD} policies`)),
});

/** TCPA: postalCode or timezone must be given ("Customer fields"). */
export const hasTcpaLocation = (r: { postalCode?: unknown; timezone?: unknown }): boolean =>
  (r.postalCode ?? null) !== null || (r.timezone ?? null) !== null;

/** One customer record with its policies. */
export const acaRecordSchema = customerShape.superRefine((r, ctx) => {
  if (!hasTcpaLocation(r)) {
    ctx.addIssue({ code: 'custom', path: ['postalCode'], message: 'postalCode or timezone is required (TCPA)' });
  }
});

/** Valid records pass this without the full parse (see ./quick-check.ts); the rest get it. */
const quickRecord = objectCheck(acaRecordSchema, [hasTcpaLocation]);

/**
 * The whole request body, quickly: only `records`, 1–100 of them, each passing quickRecord.
 * `false` means "run syncRequestSchema", which names the problems.
 */
export function quickSyncRequest(body: unknown): body is SyncRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.getPrototypeOf(body) !== Object.prototype) return false;
  const keys = Object.keys(body);
  const records = (body as { records?: unknown }).records;
  if (keys.length !== 1 || keys[0] !== 'records' || !Array.isArray(records)) return false;
  if (records.length < 1 || records.length > MAX_RECORDS_PER_REQUEST) return false;
  for (const r of records) if (!quickRecord(r)) return false;
  return true;
}

/** "Request": `{ records: [...] }`, 1–100 records. */
export const syncRequestSchema = z.strictObject({
  records: z.array(acaRecordSchema).min(1, 'at least 1 record').max(MAX_RECORDS_PER_REQUEST, `at most ${MAX_RECORDS_PER_REQUEST} records`),
});

// ---------------------------------------------------------------- responses

// The response and error-body schemas live in responses.ts; re-exported so this stays the one
// module to import for the whole contract.
export * from './responses.js';

// ---------------------------------------------------------------- types

export type AcaPolicy = z.infer<typeof acaPolicySchema>;
export type AcaCustomField = z.infer<typeof customFieldSchema>;
export type AcaRecord = z.infer<typeof acaRecordSchema>;
export type SyncRequest = z.infer<typeof syncRequestSchema>;

// ---------------------------------------------------------------- validation helpers

export interface FieldIssue {
  /** Dotted path inside the record, e.g. `policies[2].effectiveDate`; `''` for the record itself. */
  path: string;
  message: string;
}

export type RecordVerdict = { ok: true; record: AcaRecord } | { ok: false; issues: FieldIssue[] };

/** `['records', 3, 'policies', 0, 'status']` → `records[3].policies[0].status`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** Validates one record against the contract; issues carry field paths relative to the record. */
export function validateRecord(record: unknown): RecordVerdict {
  if (quickRecord(record)) return { ok: true, record: record as AcaRecord };
  const parsed = acaRecordSchema.safeParse(record);
  if (parsed.success) return { ok: true, record: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
  };
}
