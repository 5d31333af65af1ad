/**
 * The kinds of change the demo's generator makes to the sample CRM, how often, and the SQL of
 * each. Every kind exercises one path of the pipeline (docs/architecture.md): a mapped field re-sends the
 * customer, an unmapped column is skipped as unchanged, a deleted policy is sent once as
 * Cancelled, a soft-deleted customer leaves `customers.where`, a bad row is dead-lettered, and
 * an email or lead source removed in the CRM is cleared in CareCycle (sent once as null).
 */

export const CHANGE_KINDS = [
  'insert-customer',
  'update-mapped',
  'update-unmapped',
  'policy-status',
  'policy-delete',
  'customer-soft-delete',
  'phone-added',
  'bad-row',
  'field-cleared',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Relative frequency of each kind (sums to 100, so they read as percentages). */
export const CHANGE_WEIGHTS: Readonly<Record<ChangeKind, number>> = {
  'insert-customer': 15,
  'update-mapped': 25,
  'update-unmapped': 15,
  'policy-status': 15,
  'policy-delete': 5,
  'customer-soft-delete': 5,
  'phone-added': 10,
  'bad-row': 5,
  'field-cleared': 5,
};

/** Pure: the kind chosen by a uniform draw r in [0, 1). */
export function pickKind(r: number, weights: Readonly<Record<ChangeKind, number>> = CHANGE_WEIGHTS): ChangeKind {
  const total = CHANGE_KINDS.reduce((s, k) => s + weights[k], 0);
  let x = r * total;
  for (const k of CHANGE_KINDS) {
    x -= weights[k];
    if (x < 0) return k;
  }
  return CHANGE_KINDS[CHANGE_KINDS.length - 1]!;
}

export interface ChangeStatement {
  text: string;
  values: unknown[];
}

const LIVE_CUSTOMER = '(SELECT id FROM customers WHERE deleted_at IS NULL ORDER BY random() LIMIT 1)';
const ANY_POLICY = '(SELECT id FROM policies ORDER BY random() LIMIT 1)';
const FIRST = ['Ana', 'Ben', 'Cara', 'Dev', 'Eli', 'Fay', 'Gus', 'Hana', 'Ivan', 'Jo'];
const LAST = ['Lopez', 'Smith', 'Nguyen', 'Patel', 'Kim', 'Garcia', 'Brown', 'Davis', 'Khan', 'Moore'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const digits = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 10)).join('');

/** A new customer with one active ACA policy; `bad` gives it a value the mapping rejects. */
function insertCustomer(r: () => number, bad?: 'phone' | 'sex'): ChangeStatement {
  const phone = bad === 'phone' ? 'n/a' : `555${digits(r, 7)}`;
  const sex = bad === 'sex' ? 'X' : pick(r, ['M', 'F']);
  return {
    text: `WITH c AS (
        INSERT INTO customers (first_name, last_name, phone, email, zip, birth_date, sex, lead_source)
        VALUES ($1, $2, $3, $4, $5, date '1950-01-01' + $6::int, $7, 'web') RETURNING id)
      INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
      SELECT id, 'HS-' || id || '-1', 'CP-' || id || '-1', 'active', date '2026-01-01', $8 FROM c`,
    values: [
      pick(r, FIRST),
      pick(r, LAST),
      phone,
      `new${digits(r, 6)}@example.com`,
      digits(r, 5),
      Math.floor(r() * 18000),
      sex,
      (100 + Math.floor(r() * 500)).toFixed(2),
    ],
  };
}

function updateMapped(r: () => number): ChangeStatement {
  const [column, value] = pick(r, [
    ['email', `changed${digits(r, 6)}@example.com`],
    ['phone', `555${digits(r, 7)}`],
    ['last_name', pick(r, LAST)],
    ['zip', digits(r, 5)],
  ] as const);
  return { text: `UPDATE customers SET ${column} = $1, updated_at = now() WHERE id = ${LIVE_CUSTOMER}`, values: [value] };
}

/** The SQL of one change of this kind (random values from `r`). */
export function changeStatement(kind: ChangeKind, r: () => number): ChangeStatement {
  switch (kind) {
    case 'insert-customer':
      return insertCustomer(r);
    case 'update-mapped':
      return updateMapped(r);
    case 'update-unmapped':
      return { text: `UPDATE customers SET notes = $1 WHERE id = ${LIVE_CUSTOMER}`, values: [`called back, ticket ${digits(r, 5)}`] };
    case 'policy-status':
      return {
        text: `UPDATE policies SET status = CASE status WHEN 'active' THEN 'cancelled' ELSE 'active' END, updated_at = now() WHERE id = ${ANY_POLICY}`,
        values: [],
      };
    case 'policy-delete':
      return { text: `DELETE FROM policies WHERE id = ${ANY_POLICY}`, values: [] };
    case 'customer-soft-delete':
      return { text: `UPDATE customers SET deleted_at = now() WHERE id = ${LIVE_CUSTOMER}`, values: [] };
    case 'phone-added':
      return {
        text: `INSERT INTO customer_phones (customer_id, phone) SELECT id, $1 FROM customers WHERE id = ${LIVE_CUSTOMER}`,
        values: [`555${digits(r, 7)}`],
      };
    case 'bad-row':
      return insertCustomer(r, r() < 0.5 ? 'phone' : 'sex');
    case 'field-cleared': {
      // NULL or blank: both are empty, and both clear what CareCycle got before.
      const [column, value] = pick(r, [
        ['email', null],
        ['email', ''],
        ['lead_source', null],
        ['lead_source', '  '],
      ] as const);
      return { text: `UPDATE customers SET ${column} = $1, updated_at = now() WHERE id = ${LIVE_CUSTOMER}`, values: [value] };
    }
  }
}
