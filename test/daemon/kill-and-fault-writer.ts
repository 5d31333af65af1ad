/**
 * The CRM's own users, for the kill-and-fault test: two connections commit concurrent
 * multi-table transactions until stopped, reconnecting after a server restart or a terminated
 * backend (a failed transaction simply did not happen). Policies that were moved to another
 * customer are neither moved again nor deleted: CareCycle keeps a moved policy's old copy
 * under the previous customer by design, so deleting it afterwards has no single right answer.
 */
import pg from 'pg';

export interface Writer {
  /** Transactions committed so far. */
  readonly committed: number;
  stop(): Promise<void>;
}

type Op = (c: pg.Client, r: () => number) => Promise<unknown>;

export function startWriter(url: string, random: () => number, lanes = 2): Writer {
  let stopped = false;
  let committed = 0;
  let serial = 0;
  const moved: string[] = [];
  const pickCustomer = 'SELECT id FROM customers ORDER BY random() LIMIT 1';
  const roomy = `SELECT c.id FROM customers c WHERE (SELECT count(*) FROM policies p WHERE p.customer_id = c.id) < 5 ORDER BY random() LIMIT 1`;
  const unmoved = 'SELECT id FROM policies WHERE id::text <> ALL($1::text[]) ORDER BY random() LIMIT 1';

  const ops: Op[] = [
    (c) =>
      c.query(
        `INSERT INTO customers (first_name, last_name, phone, email, zip, birth_date, sex, lead_source)
                    VALUES ('Kim', 'K' || $1::text, '555-010-' || lpad(($1::int % 10000)::text, 4, '0'), 'k' || $1::text || '@example.com', '60601', '1980-05-17', 'F', 'web')`,
        [++serial],
      ),
    (c, r) =>
      c.query(`UPDATE customers SET first_name = $1, zip = $2 WHERE id = (${pickCustomer})`, [
        `F${Math.floor(r() * 1e6)}`,
        r() < 0.5 ? '60601' : '02134',
      ]),
    (c) =>
      c.query(
        `INSERT INTO policies (customer_id, hs_policy_id, carrier_policy_id, status, effective_date, premium)
                    SELECT id, 'HS-W' || $1::text, 'CP-W' || $1::text, 'active', current_date - ($1::int % 300), 100 + $1::int % 50 FROM (${roomy}) AS c`,
        [++serial],
      ),
    (c) =>
      c.query(
        `UPDATE policies SET status = CASE status WHEN 'active' THEN 'cancelled' ELSE 'active' END, premium = premium + 1 WHERE id = (${unmoved})`,
        [moved],
      ),
    async (c) => {
      const r = await c.query<{ id: string }>(
        `UPDATE policies SET customer_id = (${roomy}) WHERE id = (${unmoved}) AND EXISTS (${roomy}) RETURNING id::text AS id`,
        [moved],
      );
      return r.rows.map((x) => x.id);
    },
    (c) => c.query(`DELETE FROM policies WHERE id = (${unmoved})`, [moved]),
    (c, r) =>
      r() < 0.6
        ? c.query(`INSERT INTO customer_phones (customer_id, phone) SELECT id, '555-020-1234' FROM (${pickCustomer}) AS c`)
        : c.query('DELETE FROM customer_phones WHERE id = (SELECT id FROM customer_phones ORDER BY random() LIMIT 1)'),
  ];

  async function lane(): Promise<void> {
    let client: pg.Client | null = null;
    while (!stopped) {
      try {
        if (!client) {
          client = new pg.Client({ connectionString: url });
          client.on('error', () => undefined);
          await client.connect();
        }
        await client.query('BEGIN');
        const movedNow: string[] = [];
        for (let i = 1 + Math.floor(random() * 3); i > 0; i--) {
          const op = ops[Math.floor(random() * ops.length)]!;
          const out = await op(client, random);
          if (Array.isArray(out)) movedNow.push(...out);
        }
        await client.query('COMMIT');
        moved.push(...movedNow);
        committed++;
      } catch {
        await client?.end().catch(() => undefined);
        client = null;
        await sleep(200);
      }
      await sleep(5 + random() * 40);
    }
    await client?.end().catch(() => undefined);
  }

  const running = Promise.all(Array.from({ length: lanes }, lane));
  return {
    get committed() {
      return committed;
    },
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
