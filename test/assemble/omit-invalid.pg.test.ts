/**
 * sync.onInvalidOptional: omit against the sample CRM: a refused optional value is left out of
 * the record instead of dead-lettering the customer, and the field and reason are logged and
 * counted in carecycle_sync_fields_omitted_total.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openStateDb, type StateDb } from '../../src/state/db.js';
import { prepareAssembler } from '../../src/assemble/assembler.js';
import { mappedTables } from '../../src/assemble/mapping.js';
import { readCatalog } from '../../src/pg/catalog.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { omittedObserver } from '../../src/daemon/wiring.js';
import { sql } from '../harness/db.js';
import { capturingLogger } from '../deliver/helpers.js';
import { demoConfig, sampleCrm } from './crm-fixture.js';

let url: string;
let crm: pg.Pool;
let state: StateDb;

beforeAll(async () => {
  url = await sampleCrm('omit-invalid', 4);
  crm = new pg.Pool({ connectionString: url, max: 2 });
  state = openStateDb(demoConfig(url), { max: 1 });
  await sql(url, `UPDATE customers SET sex = 'X' WHERE id = 1`);
  await sql(url, `UPDATE policies SET status = 'lapsed' WHERE id = (SELECT min(id) FROM policies WHERE customer_id = 2)`);
});

afterAll(async () => {
  await state?.close();
  await crm?.end();
});

describe('sync.onInvalidOptional', () => {
  it('omit: the customer is sent without the refused fields, which are logged and counted', async () => {
    const config = demoConfig(url, (raw) => {
      raw.sync.onInvalidOptional = 'omit';
    });
    const { log, lines } = capturingLogger();
    const metrics = createMetrics();
    const asm = await prepareAssembler({
      config,
      crm,
      state,
      log,
      onOmitted: omittedObserver(metrics),
      catalog: await readCatalog(crm, mappedTables(config)),
    });
    const [one, two, three] = await asm.assemble(['1', '2', '3']);
    expect(one!.verdict).toBe('send');
    expect(one!.records[0]).not.toHaveProperty('gender');
    expect(two!.verdict).toBe('send');
    expect(two!.records[0]!.policies![0]).not.toHaveProperty('status');
    expect(three!.omitted).toBeUndefined();
    const warned = lines.map((l) => JSON.parse(l)).filter((l) => /sync.onInvalidOptional: omit/.test(l.msg));
    expect(warned.map((l) => [l.key, l.omitted.map((o: { path: string }) => o.path)])).toEqual([
      ['1', ['gender']],
      ['2', ['policies[0].status']],
    ]);
    expect(warned[0].omitted[0].reason).toContain('"X" has no entry in customers.fields.gender.map');
    const text = await metrics.registry.metrics();
    expect(text).toContain('carecycle_sync_fields_omitted_total{field="gender"} 1');
    expect(text).toContain('carecycle_sync_fields_omitted_total{field="policies[].status"} 1');
  });

  it('dead-letter (the default): the same customers are invalid', async () => {
    const config = demoConfig(url);
    const asm = await prepareAssembler({ config, crm, state, catalog: await readCatalog(crm, mappedTables(config)) });
    const [one, two] = await asm.assemble(['1', '2']);
    expect([one!.verdict, two!.verdict]).toEqual(['invalid', 'invalid']);
    expect(two!.issues[0]!.path).toBe('policies[0].status');
  });
});
