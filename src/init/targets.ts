import type { Shape } from './profile.js';

/**
 * The ACA fields `init` knows how to find, with the names CRMs give them (as expanded words, see
 * ./names.ts: `first_nm`, `fname` and `given_name` all read `first name`) and the shape their
 * values should have. Earlier synonyms win ties: `mobile` is preferred to `home phone`.
 */
export interface Target {
  field: string;
  synonyms: readonly string[];
  /** The shape most sampled values must have; none for free text. */
  shape?: Shape;
  /** Found by values alone when no column name matches (a phone column named `contact1`). */
  byValues?: boolean;
  /** CareCycle requires it (or, for postalCode, it or timezone): how often the column is set counts. */
  required?: boolean;
}

const t = (field: string, synonyms: string[], shape?: Shape, byValues = false): Target => ({
  field,
  synonyms,
  ...(shape ? { shape } : {}),
  ...(byValues ? { byValues } : {}),
});

const REQUIRED = new Set(['firstName', 'lastName', 'phoneNumber', 'postalCode']);
const required = (list: Target[]): Target[] => list.map((x) => (REQUIRED.has(x.field) ? { ...x, required: true } : x));

export const CUSTOMER_TARGETS: readonly Target[] = required([
  t('firstName', ['first name', 'first'], 'name'),
  t('lastName', ['last name', 'last'], 'name'),
  t(
    'phoneNumber',
    [
      'mobile',
      'mobile phone',
      'mobile number',
      'mobile phone number',
      'phone',
      'phone number',
      'primary phone',
      'phone 1',
      'contact phone',
      'home phone',
      'day phone',
      'work phone',
    ],
    'phone',
    true,
  ),
  t('email', ['email', 'email address', 'e mail', 'primary email'], 'email', true),
  t('postalCode', ['zip', 'zip code', 'zip 5', 'zip code 5', 'postal code', 'zip zip'], 'zip'),
  t('state', ['state', 'state code', 'address state', 'province'], 'state'),
  t('city', ['city', 'city name', 'town', 'address city'], 'name'),
  t('county', ['county', 'county name'], 'name'),
  t('address', ['address', 'address 1', 'address line 1', 'street', 'street address', 'street 1', 'line 1'], undefined),
  t('address2', ['address 2', 'address line 2', 'street 2', 'line 2', 'apt', 'unit'], undefined),
  t('dateOfBirth', ['birth date', 'date of birth', 'date birth', 'born', 'born on', 'birth'], 'date'),
  t('language', ['language', 'preferred language', 'lang', 'language code'], undefined),
  t('gender', ['gender', 'gender code', 'gender identity'], undefined),
  t('maritalStatus', ['marital status', 'marital', 'marital status code', 'marriage status'], undefined),
  t('householdIncome', ['household income', 'annual income', 'income', 'household income amount'], 'money'),
  t('dependentCount', ['dependent count', 'dependents', 'number dependents', 'dependents count'], 'integer'),
  t('medicaid', ['medicaid', 'has medicaid', 'medicaid flag', 'is medicaid'], 'boolean'),
  t('medicaidNumber', ['medicaid number', 'medicaid id'], undefined),
  t('veteran', ['veteran', 'is veteran', 'veteran flag'], 'boolean'),
  t('doNotCall', ['do not call', 'do not call flag', 'no call', 'call opt out'], 'boolean'),
  t('doNotSMS', ['do not sms', 'do not text', 'sms opt out', 'text opt out', 'no sms'], 'boolean'),
  t('doNotEmail', ['do not email', 'email opt out', 'no email'], 'boolean'),
  t('doNotMail', ['do not mail', 'mail opt out', 'no mail'], 'boolean'),
  t('healthSherpaCustomerId', ['healthsherpa customer id', 'healthsherpa id', 'healthsherpa client id'], undefined),
  t(
    'carrierAssignedCustomerId',
    ['carrier customer id', 'carrier member id', 'carrier client id', 'member id', 'subscriber id'],
    undefined,
  ),
]);

export const POLICY_TARGETS: readonly Target[] = [
  t(
    'healthSherpaPolicyId',
    ['healthsherpa policy id', 'healthsherpa id', 'healthsherpa enrollment id', 'healthsherpa policy number'],
    undefined,
  ),
  t(
    'carrierAssignedPolicyId',
    [
      'carrier policy id',
      'carrier policy number',
      'carrier assigned policy id',
      'carrier assigned id',
      'carrier id',
      'carrier reference',
      'carrier ref',
    ],
    undefined,
  ),
  t('policyNumber', ['policy number', 'policy id number', 'contract number'], undefined),
  t('planName', ['plan name', 'plan', 'product name', 'product', 'plan description'], undefined),
  t('planCode', ['plan code', 'product code'], undefined),
  t('hiosId', ['hios id', 'hios', 'hios plan id'], undefined),
  t('carrierName', ['carrier name', 'carrier', 'insurer', 'issuer', 'insurance company', 'company name'], undefined),
  t('status', ['status', 'policy status', 'enrollment status', 'status code', 'coverage status', 'state status'], undefined),
  t('effectiveDate', ['effective date', 'effective', 'start date', 'coverage start', 'coverage start date', 'effective from'], 'date'),
  t('terminationDate', ['termination date', 'end date', 'coverage end', 'coverage end date', 'effective to'], 'date'),
  t(
    'enrollmentDate',
    ['enrollment date', 'enrolled date', 'enrolled on', 'application date', 'sold date', 'submitted date', 'sale date'],
    'date',
  ),
  t('cancelledDate', ['cancelled date', 'cancel date', 'cancellation date'], 'date'),
  t('paidThroughDate', ['paid through date', 'paid through', 'paid thru', 'paid to date'], 'date'),
  t('planState', ['plan state', 'state'], 'state'),
  t('metalLevel', ['metal level', 'metal', 'metal level code'], undefined),
  t('monthlyPremium', ['monthly premium', 'premium', 'premium amount', 'monthly premium amount', 'monthly amount'], 'money'),
  t('grossPremium', ['gross premium'], 'money'),
  t('netPremium', ['net premium'], 'money'),
  t('subsidyAmount', ['subsidy', 'subsidy amount', 'aptc', 'aptc amount', 'tax credit'], 'money'),
  t('deductible', ['deductible', 'deductible amount'], 'money'),
  t('policyLives', ['lives', 'policy lives', 'number lives', 'covered lives', 'members count'], 'integer'),
  t('aorNpn', ['aor npn', 'agent npn', 'npn'], undefined),
  t('ffmApplicationId', ['ffm application id', 'ffm app id'], undefined),
  t('applicationId', ['application id', 'app id', 'application number'], undefined),
];

/** Customer columns that are worth sending as CareCycle custom fields (their key is the column name). */
export const CUSTOM_FIELD_HINTS = ['source', 'lead source', 'campaign', 'utm', 'referral', 'referred by', 'channel', 'agent', 'agent name'];
