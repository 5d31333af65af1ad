import type { Transform } from '../config/schema.js';
import { ENUM_FIELDS } from '../carecycle/enums.js';

/**
 * The JSON type CareCycle expects for each ACA field (docs/carecycle-api.md, "Customer fields" and
 * "Policy fields"). The assembler coerces a mapped value to it after any configured transform and
 * map, so a boolean column or `{sql: "dnc_flag = 'Y'"}` becomes `true`, a date column "MM-DD-YYYY",
 * a phone "(XXX) XXX-XXXX".
 */
export type FieldKind = 'string' | 'integer' | 'boolean' | 'date' | 'money' | 'enum' | 'phone' | 'zip';

const INTEGER = ['dependentCount', 'householdIncome', 'policyLives'];
const BOOLEAN = [
  'isDecisionMaker',
  'medicaid',
  'veteran',
  'socialSecurityDisability',
  'doNotCall',
  'doNotSMS',
  'doNotEmail',
  'doNotMail',
  'sepDocumentationReceived',
  'wasAgent',
  'isRewrite',
  'usingSubsidy',
];
// Only dateOfBirth has a documented format; policy dates use the same one (docs/carecycle-api.md, A10).
const DATE = [
  'dateOfBirth',
  'effectiveDate',
  'enrollmentDate',
  'applicationApprovalDate',
  'terminationDate',
  'renewalDate',
  'cancelledDate',
  'sepStartDate',
  'sepEndDate',
  'sepDocumentationDate',
  'gracePeriodStartDate',
  'paidThroughDate',
];
const MONEY = [
  'monthlyPremium',
  'deductible',
  'outOfPocketMax',
  'initialCommission',
  'renewalCommission',
  'spifAmount',
  'subsidyAmount',
  'grossPremium',
  'netPremium',
];

export function fieldKind(field: string): FieldKind {
  if (INTEGER.includes(field)) return 'integer';
  if (BOOLEAN.includes(field)) return 'boolean';
  if (DATE.includes(field)) return 'date';
  if (MONEY.includes(field)) return 'money';
  if (field in ENUM_FIELDS) return 'enum';
  // CareCycle accepts only three phone formats and exactly 5 postal characters: normalise
  // them even when the config names no transform (the convention mapping names none).
  if (field === 'phoneNumber') return 'phone';
  if (field === 'postalCode') return 'zip';
  return 'string';
}

/** The transform that turns CRM text into the field's JSON type (idempotent on its own output). */
export function kindTransform(kind: FieldKind): Transform | undefined {
  switch (kind) {
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'money':
      return 'money';
    case 'phone':
      return 'phone';
    case 'zip':
      return 'zip5';
    default:
      return undefined;
  }
}

/** Singular noun for error messages: `"Man" is not a gender`. */
export function enumNoun(field: string): string {
  const nouns: Record<string, string> = {
    gender: 'gender',
    maritalStatus: 'marital status',
    status: 'policy status',
    metalLevel: 'metal level',
  };
  return nouns[field] ?? field;
}
