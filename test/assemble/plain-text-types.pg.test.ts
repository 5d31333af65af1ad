/**
 * The assembler reads columns of PLAIN_TEXT_TYPES as `col::text` instead of
 * `to_jsonb(col) #>> '{}'` (cheaper for Postgres). That is only right if both give the same text
 * for every value, whatever the session's settings: checked here value by value.
 */
import { expect, it } from 'vitest';
import pg from 'pg';
import { PLAIN_TEXT_TYPES } from '../../src/assemble/query.js';
import { freshDatabase } from '../harness/db.js';

const VALUES: Record<string, string[]> = {
  text: ["''", "'plain'", `'quote " and \\ backslash'`, "E'tab\\tnew\\nline'", "'☃ unicode'", "'  padded  '"],
  'character varying': ["''", "'x'", "' trailing '"],
  smallint: ['0', '-32768', '32767'],
  integer: ['0', '-2147483648', '2147483647'],
  bigint: ['0', '-9223372036854775808', '9223372036854775807'],
  numeric: ['0', '1.50', '-0.005', '123456789012345678901234567890.123456789', "'NaN'", '1e-20', '100'],
  boolean: ['true', 'false'],
  uuid: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"],
};

it("col::text equals to_jsonb(col) #>> '{}' for every plain-text type, under odd session settings", async () => {
  expect(new Set(Object.keys(VALUES))).toEqual(new Set(PLAIN_TEXT_TYPES));
  const c = new pg.Client({ connectionString: await freshDatabase('plain_text_types') });
  await c.connect();
  try {
    await c.query(
      "SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = 3; SET TimeZone = 'Asia/Kolkata'; SET bytea_output = 'escape'",
    );
    let compared = 0;
    for (const [type, values] of Object.entries(VALUES)) {
      for (const v of [...values, 'NULL']) {
        const r = await c.query<{ plain: string | null; json: string | null }>(
          `SELECT (${v})::${type}::text AS plain, to_jsonb((${v})::${type}) #>> '{}' AS json`,
        );
        expect({ type, v, text: r.rows[0]!.plain }).toEqual({ type, v, text: r.rows[0]!.json });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(30);
  } finally {
    await c.end();
  }
});
