/**
 * Enumerations and field names of the CareCycle ACA sync contract, as `as const` arrays.
 * Source: docs/carecycle-api.md ("Customer fields", "Policy fields", "Errors"). The zod schemas in
 * `schema.ts`, the config validation and the stand-in all derive from these arrays.
 */

export const GENDERS = ['Male', 'Female', 'Non-Binary', 'Other', 'Prefer Not to Say'] as const;
export type Gender = (typeof GENDERS)[number];

export const MARITAL_STATUSES = ['Single', 'Married', 'Divorced', 'Widowed', 'Separated', 'Domestic Partnership'] as const;
export type MaritalStatus = (typeof MARITAL_STATUSES)[number];

/** Policy statuses (POL-C enum plus `Not Approved` from CUS-L). Default on the server: `Active`. */
export const POLICY_STATUSES = [
  'Active',
  'Pending',
  'Pending Effectuation',
  'Pending Followup',
  'Suspended',
  'Cancelled',
  'Terminated',
  'Future Cancel',
  'Deceased',
  'Not Approved',
] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

export const METAL_LEVELS = ['Catastrophic', 'Bronze', 'Expanded Bronze', 'Silver', 'Gold', 'Platinum'] as const;
export type MetalLevel = (typeof METAL_LEVELS)[number];

/** Error codes of the API's error bodies (AUTH, OVR). */
export const API_ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'VALIDATION_ERROR',
  'RATE_LIMIT_EXCEEDED',
  'INTERNAL_ERROR',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** Customer fields of an ACA record, in the documented order (without customFields/policies). */
export const CUSTOMER_FIELDS = [
  'firstName',
  'lastName',
  'phoneNumber',
  'email',
  'postalCode',
  'timezone',
  'state',
  'city',
  'county',
  'address',
  'address2',
  'dateOfBirth',
  'language',
  'gender',
  'maritalStatus',
  'filingStatus',
  'dependentCount',
  'householdIncome',
  'isDecisionMaker',
  'medicaid',
  'medicaidNumber',
  'veteran',
  'vaNumber',
  'socialSecurityDisability',
  'carrierAssignedCustomerId',
  'doNotCall',
  'doNotSMS',
  'doNotEmail',
  'doNotMail',
  'healthSherpaCustomerId',
  'externalId',
] as const;
export type CustomerField = (typeof CUSTOMER_FIELDS)[number];

/** Policy fields of an ACA record's `policies[]`, in the documented order. */
export const POLICY_FIELDS = [
  'planName',
  'planCode',
  'carrierName',
  'effectiveDate',
  'enrollmentDate',
  'aorNpn',
  'writingAgentNpn',
  'policyNumber',
  'policySubType',
  'applicationId',
  'planState',
  'planCounty',
  'carrierAssignedPolicyId',
  'status',
  'applicationApprovalDate',
  'terminationDate',
  'renewalDate',
  'cancelledDate',
  'electionPeriod',
  'aorFirstName',
  'aorLastName',
  'writingAgentName',
  'sepType',
  'sepCode',
  'sepStartDate',
  'sepEndDate',
  'sepDocumentationReceived',
  'sepDocumentationDate',
  'sepNotes',
  'monthlyPremium',
  'deductible',
  'outOfPocketMax',
  'initialCommission',
  'renewalCommission',
  'spifAmount',
  'policyLives',
  'wasAgent',
  'writtenAs',
  'isReplacing',
  'isRewrite',
  'reasonForPurchase',
  'policyNotes',
  'healthSherpaPolicyId',
  'hiosId',
  'metalLevel',
  'gracePeriodStartDate',
  'paidThroughDate',
  'ffmApplicationId',
  'ffmSubscriberId',
  'subsidyAmount',
  'usingSubsidy',
  'premiumMode',
  'grossPremium',
  'netPremium',
  'exchangeStatus',
] as const;
export type PolicyField = (typeof POLICY_FIELDS)[number];

/** Enum-valued fields and their allowed values: a `map:` in the config must target one of these. */
export const ENUM_FIELDS: Readonly<Record<string, readonly string[]>> = {
  gender: GENDERS,
  maritalStatus: MARITAL_STATUSES,
  status: POLICY_STATUSES,
  metalLevel: METAL_LEVELS,
};

export const MAX_RECORDS_PER_REQUEST = 100;
export const MAX_POLICIES_PER_RECORD = 10;
export const MAX_CUSTOM_FIELDS_PER_RECORD = 50;

/** Time-zone abbreviations the API accepts besides IANA names (docs/carecycle-api.md, "Customer fields"). */
export const TIMEZONE_ABBREVIATIONS = ['EST', 'CST', 'MST', 'PST'] as const;
export type TimezoneAbbreviation = (typeof TIMEZONE_ABBREVIATIONS)[number];

/**
 * Enum-like policy fields whose full value lists are not documented (docs/carecycle-api.md, A12):
 * only these documented example values are known. The schema accepts any string ≤ 255 for them.
 */
export const KNOWN_ENUM_EXAMPLES = {
  electionPeriod: ['IEP'],
  writtenAs: ['New Business'],
  premiumMode: ['Monthly'],
  exchangeStatus: ['FFM'],
} as const;
