import { z } from 'zod';
import { CUSTOMER_FIELDS, POLICY_FIELDS, POLICY_STATUSES } from '../carecycle/enums.js';
import { SSL_MODES } from './pg-tls.js';
import { ALERT_EVENTS } from './alert-events.js';

/**
 * The one config schema. Every field is described: the README's config reference is
 * generated from these descriptions. Parsed once by `loadConfig`, then passed down.
 */

export const TRANSFORMS = ['phone', 'date', 'zip5', 'integer', 'money', 'boolean', 'trim', 'upper'] as const;
export type Transform = (typeof TRANSFORMS)[number];

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'a plain SQL identifier (letters, digits, _)')
  .max(63);
const tableName = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/, 'a table name, optionally schema-qualified (schema.table)')
  .describe('Table name, optionally schema-qualified; unqualified means `public`.');

function tlsKeys(where: string) {
  const file = (what: string) =>
    z.string().min(1).optional().describe(`${what}, a PEM file; or the parameter of that name in ${where}.url.`);
  return z
    .object({
      mode: z
        .enum(SSL_MODES)
        .optional()
        .describe(
          "TLS to Postgres, with libpq's meaning (sslmode): disable, require (encrypted, server not verified), verify-ca (and signed by rootCert), verify-full (and its name matches the host). Default disable, or the sslmode of the url.",
        ),
      rootCert: z
        .string()
        .min(1)
        .optional()
        .describe(
          'CA certificate file that verifies the server (sslrootcert), or `system` for the CAs this host trusts (needs verify-full).',
        ),
      cert: file('Client certificate (sslcert)'),
      key: file('Private key of the client certificate (sslkey)'),
      keyPassword: z.string().optional().describe('Passphrase of an encrypted key (sslpassword). Never printed.'),
    })
    .strict()
    .optional()
    .describe(`TLS for the ${where} connection; each key may instead be a parameter of ${where}.url.`);
}

const proxyUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// proxy URL');

/** An IANA zone name that this Node's Intl knows (America/Los_Angeles, UTC, Europe/Berlin). */
const ianaZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone name such as UTC or America/New_York');

const scalarDefault = z.union([z.string(), z.number(), z.boolean()]);

export const columnField = z
  .object({
    column: identifier.describe('Column of the mapped table.'),
    transform: z
      .enum(TRANSFORMS)
      .optional()
      .describe(`Transform applied to the value: ${TRANSFORMS.join(', ')}.`),
    map: z
      .record(z.string(), z.string())
      .optional()
      .describe('Value map, CRM value → ACA value (e.g. M: Male). Unmapped values are invalid.'),
    default: scalarDefault.optional().describe('Value used when the column is NULL.'),
  })
  .strict();
export const sqlField = z
  .object({ sql: z.string().min(1).describe('SQL expression over the mapped table, read under its own name (no alias).') })
  .strict();
export const fieldSpec = z.union([identifier, columnField, sqlField]);
export type FieldSpec = z.infer<typeof fieldSpec>;

function fieldsOf<T extends readonly string[]>(names: T, what: string) {
  return z
    .record(z.string(), fieldSpec)
    .superRefine((rec, ctx) => {
      for (const k of Object.keys(rec)) {
        if (!(names as readonly string[]).includes(k)) {
          ctx.addIssue({ code: 'custom', path: [k], message: `unknown ${what} field "${k}"; expected one of: ${names.join(', ')}` });
        }
      }
    })
    .describe(
      `${what} field → column | {column, transform, map, default} | {sql}. Without it, columns named like the fields (snake_case) are mapped.`,
    );
}

export const configSchema = z
  .object({
    source: z
      .object({
        url: z.string().min(1).describe('Connection string of the CRM database (env DATABASE_URL).'),
        slot: identifier.default('carecycle_sync').describe('Logical replication slot name.'),
        publication: identifier.default('carecycle_sync').describe('Publication name.'),
        heartbeatSeconds: z
          .number()
          .positive()
          .default(30)
          .describe('Interval of the heartbeat message written to the WAL (pg_logical_emit_message).'),
        onSlotLost: z
          .enum(['recreate', 'stop'])
          .default('recreate')
          .describe(
            'When the slot is missing or invalidated (its WAL removed, e.g. by max_slot_wal_keep_size): `recreate` makes a new slot and reconciles every customer (only records that differ are sent; policies and customers deleted meanwhile get the delete rules), at most 3 times an hour; `stop` exits 1 and waits for a person.',
          ),
        tls: tlsKeys('source'),
      })
      .strict(),
    state: z
      .object({
        url: z
          .string()
          .min(1)
          .optional()
          .describe('Connection string of the state database (env STATE_DATABASE_URL); default: the source database.'),
        schema: identifier.default('carecycle_sync').describe('Schema holding the daemon state tables.'),
        tls: tlsKeys('state'),
      })
      .strict()
      .default({ schema: 'carecycle_sync' }),
    carecycle: z
      .object({
        baseUrl: z.string().url().default('https://api.carecycle.ai').describe('CareCycle API base URL (env CARECYCLE_BASE_URL).'),
        apiKey: z
          .string()
          .startsWith('cc_', 'a CareCycle API key starting with cc_')
          .optional()
          .describe('CareCycle API key (env CARECYCLE_API_KEY or CARECYCLE_API_KEY_FILE). Never printed.'),
        requestsPerMinute: z.number().int().positive().max(100000).default(60).describe('Request budget per rolling minute.'),
        timeoutMs: z.number().int().positive().default(30000).describe('Timeout of one API request.'),
        authRetrySeconds: z
          .number()
          .positive()
          .default(60)
          .describe(
            'After CareCycle rejects the API key (401/403), send nothing for this long before trying the key again (no retry storm).',
          ),
        proxy: z
          .object({
            httpsUrl: proxyUrl.optional().describe('Proxy for an https:// baseUrl (env https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY).'),
            httpUrl: proxyUrl
              .optional()
              .describe('Proxy for an http:// baseUrl (env http_proxy, all_proxy, ALL_PROXY; not HTTP_PROXY, as in curl).'),
            noProxy: z
              .string()
              .optional()
              .describe(
                'Hosts that bypass the proxy, as curl reads no_proxy: `*`, names (and their subdomains), IPs, CIDR ranges, `host:port` (env no_proxy, NO_PROXY).',
              ),
          })
          .strict()
          .optional()
          .describe('Outbound proxy for CareCycle requests; the environment variables override the file.'),
        caFile: z
          .string()
          .min(1)
          .optional()
          .describe(
            "PEM file of extra CAs to trust for CareCycle requests and an https:// proxy (a TLS-inspecting proxy's CA), on top of Node's built-in CAs. NODE_EXTRA_CA_CERTS also works when this is unset.",
          ),
        stallSeconds: z
          .number()
          .positive()
          .default(300)
          .describe('When keys wait and no batch was settled for this long (an outage, a failing query), /readyz turns false.'),
      })
      .strict()
      .default({ baseUrl: 'https://api.carecycle.ai', requestsPerMinute: 60, timeoutMs: 30000, authRetrySeconds: 60, stallSeconds: 300 }),
    sync: z
      .object({
        onCustomerDelete: z
          .enum(['ignore', 'cancel-policies'])
          .default('ignore')
          .describe('What a customer delete (or leaving `customers.where`) does.'),
        onPolicyDelete: z
          .enum([...POLICY_STATUSES, 'ignore'])
          .default('Cancelled')
          .describe('Status sent once for a policy that disappeared, or `ignore`.'),
        dateFormat: z.enum(['MM-DD-YYYY', 'MM/DD/YYYY']).default('MM-DD-YYYY').describe('Format of dates sent to CareCycle.'),
        flushIntervalMs: z.number().int().positive().default(200).describe('Capture: flush keys to `pending` at least this often.'),
        flushMaxKeys: z.number().int().positive().default(5000).describe('Capture: flush when this many distinct keys are buffered.'),
        batchSize: z.number().int().min(1).max(100).default(100).describe('Records per API request (at most 100).'),
        safety: z
          .object({
            maxCancellations: z
              .union([z.number().int().positive(), z.literal('off')])
              .optional()
              .describe(
                'Mass-cancellation rail: records that would cancel or terminate more policies than this within 15 minutes are held until `carecycle-sync approve` (or until the CRM no longer cancels them). Default: the larger of 50 and 10 % of the policies CareCycle holds from us as not cancelled; `off` disables it.',
              ),
          })
          .strict()
          .default({}),
        reconcileOnMappingChange: z
          .boolean()
          .default(true)
          .describe(
            'When `run` starts with a different mapping (tables, fields, transforms, filters, custom fields, delete rules, other record-shaping `sync` keys), re-assemble every customer at backfill priority and send only the records that differ. Off: the new mapping reaches a customer only when it changes.',
          ),
        nullValues: z
          .enum(['clear', 'omit'])
          .default('clear')
          .describe(
            'A field last sent with a value that is now NULL or blank: `clear` sends an explicit null so CareCycle clears it; `omit` leaves it out (CareCycle keeps the old value). A field never sent with a value is always left out.',
          ),
        timeZone: ianaZone
          .default('UTC')
          .describe(
            'IANA time zone whose calendar day a date-time with a time zone (timestamptz) takes when mapped with the `date` transform or to a date field.',
          ),
        policyDateFormat: z
          .enum(['MM-DD-YYYY', 'MM/DD/YYYY', 'YYYY-MM-DD'])
          .optional()
          .describe('Format of policy dates (effectiveDate, terminationDate, ...); default: sync.dateFormat.'),
        onInvalidOptional: z
          .enum(['dead-letter', 'omit'])
          .default('dead-letter')
          .describe(
            'A value of an optional field that its transform or map refuses: `dead-letter` the customer, or `omit` the field (logged, counted in fields_omitted_total).',
          ),
        mapMatching: z
          .enum(['exact', 'relaxed'])
          .default('exact')
          .describe(
            'How CRM values are looked up in a field\'s `map`: `exact`, or `relaxed` (case and whitespace ignored: "ACTIVE ", "active" and "Active" are one key).',
          ),
      })
      .strict()
      .default({
        onCustomerDelete: 'ignore',
        onPolicyDelete: 'Cancelled',
        dateFormat: 'MM-DD-YYYY',
        flushIntervalMs: 200,
        flushMaxKeys: 5000,
        batchSize: 100,
        safety: {},
        reconcileOnMappingChange: true,
        nullValues: 'clear',
        timeZone: 'UTC',
        onInvalidOptional: 'dead-letter',
        mapMatching: 'exact',
      }),
    customers: z
      .object({
        table: tableName,
        key: identifier.default('id').describe('Primary key column; becomes externalId unless fields.externalId says otherwise.'),
        where: z.string().min(1).optional().describe('SQL predicate over the row; rows outside it are treated as deleted.'),
        fields: fieldsOf(CUSTOMER_FIELDS, 'customer').optional(),
        customFields: z
          .record(z.string(), fieldSpec)
          .optional()
          .describe('CareCycle custom field key → column or field form (at most 50).'),
      })
      .strict(),
    policies: z
      .object({
        table: tableName,
        key: identifier.default('id').describe('Primary key column of the policy table.'),
        customerKey: identifier.describe('Column holding the customer key (foreign key).'),
        where: z.string().min(1).optional().describe('SQL predicate over the row; policies outside it are treated as deleted.'),
        fields: fieldsOf(POLICY_FIELDS, 'policy').optional(),
      })
      .strict()
      .optional(),
    watch: z
      .array(z.object({ table: tableName, customerKey: identifier.describe('Column holding the customer key.') }).strict())
      .default([])
      .describe('More tables whose changes re-send a customer.'),
    server: z
      .object({
        port: z.number().int().min(0).max(65535).default(8080).describe('Port of /healthz, /readyz and /metrics (env PORT).'),
        adminToken: z
          .string()
          .min(16, 'at least 16 characters (e.g. `openssl rand -hex 24`)')
          .optional()
          .describe(
            "Bearer token for the status page's actions (POST /dead-letters/retry, /dead-letters/discard, /approve); env CARECYCLE_SYNC_ADMIN_TOKEN. Without it the page is read-only and actions answer 403. Never printed.",
          ),
      })
      .strict()
      .default({ port: 8080 }),
    alerts: z
      .object({
        webhooks: z
          .array(
            z
              .object({
                url: z
                  .string()
                  .url()
                  .describe('Where to POST (a Slack incoming-webhook URL, or any receiver of the JSON format). Treated as a secret.'),
                events: z
                  .array(z.enum(ALERT_EVENTS))
                  .min(1)
                  .optional()
                  .describe(`Only these events (default all): ${ALERT_EVENTS.join(', ')}.`),
                format: z
                  .enum(['slack', 'json'])
                  .default('json')
                  .describe('slack: {text}; json: {event, status, summary, instance, at, details}.'),
              })
              .strict(),
          )
          .default([])
          .describe('Webhooks that get a message when a condition fires and when it is resolved.'),
        notReadyMinutes: z
          .number()
          .positive()
          .default(5)
          .describe('Alert when the daemon has not been ready for this long (minutes; fractions allowed).'),
        repeatMinutes: z
          .number()
          .positive()
          .default(60)
          .describe('At most one message per condition per this many minutes while it lasts (and after it flapped).'),
        walRetainedBytes: z
          .number()
          .int()
          .positive()
          .optional()
          .describe('Alert when the slot retains more WAL than this (bytes); unset: no such alert.'),
      })
      .strict()
      .default({ webhooks: [], notReadyMinutes: 5, repeatMinutes: 60 }),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info')
          .describe('Log level (env LOG_LEVEL).'),
      })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type CustomersConfig = Config['customers'];
export type PoliciesConfig = NonNullable<Config['policies']>;
