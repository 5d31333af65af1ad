import type * as Library from 'pg-logical-replication';
import type { Pgoutput } from 'pg-logical-replication';
// The service and the pgoutput plugin without the package's index, which also loads the
// wal2json, test_decoding and decoderbufs plugins (with protobufjs): code the daemon would
// carry for nothing (docs/footprint.md). The types are the package's own.
import serviceModule from 'pg-logical-replication/dist/logical-replication-service.js';
import pgoutputModule from 'pg-logical-replication/dist/output-plugins/pgoutput/pgoutput-plugin.js';
import { formatLsn, parseLsn, type Lsn } from './lsn.js';
import type { ClientConfig } from 'pg';

/**
 * The one module that touches pg-logical-replication. Its defaults
 * lose data (docs/replication.md, traps 1–5), so it is always configured with
 * acknowledge {auto: false, timeoutSeconds: 0} and flowControl on, and the caller sends every
 * standby status update itself, carrying only LSNs whose keys are durable.
 */

const { LogicalReplicationService } = serviceModule as typeof Library;
const { PgoutputPlugin } = pgoutputModule as typeof Library;

export type ReplicationMessage = Pgoutput.Message;

export interface StreamHandlers {
  /** Called in stream order; under flowControl the next message waits for the returned promise. */
  onMessage(msg: ReplicationMessage): Promise<void> | void;
  /** A primary keepalive (emitted on arrival, possibly before earlier queued messages are handled). */
  onKeepalive(walEnd: Lsn, shouldRespond: boolean): void;
  /** START_REPLICATION was accepted: the slot is ours and data may flow. */
  onStart?(): void;
}

export interface ReplicationStream {
  /** Streams from `startLsn`; resolves when stopped, rejects when the connection fails. */
  run(startLsn: Lsn): Promise<void>;
  /** Standby status update reporting exactly `lsn` as written = flushed = applied. False when not streaming. */
  confirm(lsn: Lsn, requestReply?: boolean): Promise<boolean>;
  /** XLogData messages received (parsed) so far; compare with the number handled. */
  readonly received: number;
  /** Date.now() of the last byte of data or keepalive received. */
  readonly lastReceivedAt: number;
  stop(): Promise<void>;
}

export interface StreamOptions {
  /** node-postgres options of the source connection (URL and TLS); `replication` is added. */
  connection: ClientConfig;
  slot: string;
  publication: string;
  applicationName?: string;
}

/**
 * Column values are left as Postgres' text output: each Relation message's parsers are replaced
 * by the identity before any tuple of that relation is parsed (parse() runs on arrival, in
 * order). This is the fix for docs/replication.md, trap 10 (a `date` parsed as local midnight shifts with
 * the process timezone) without touching the global pg.types that the rest of the process uses,
 * and it skips parsing values capture never reads. Messages are counted as they arrive.
 */
class TextPgoutputPlugin extends PgoutputPlugin {
  received = 0;
  lastReceivedAt = Date.now();

  override parse(buffer: Buffer): Pgoutput.Message {
    const msg = super.parse(buffer);
    this.received++;
    this.lastReceivedAt = Date.now();
    if (msg.tag === 'relation') for (const c of msg.columns) c.parser = identity;
    return msg;
  }
}

const identity = (raw: unknown): unknown => raw;

/**
 * `acknowledge(x)` reports x + 1 (it expects the start of the last record received), but what we
 * report is a position to resume from: the end of the last durable commit, or a keepalive's WAL
 * end. Reporting one byte more is not harmless: on the next START_REPLICATION Postgres skips
 * every transaction whose commit record starts before the confirmed position, and a concurrent
 * transaction's commit record often starts exactly at the previous commit's end
 * (docs/replication.md, "Confirming a position"). So the library is handed lsn - 1.
 */
export function acknowledgeArgument(lsn: Lsn): Lsn {
  return lsn > 0n ? lsn - 1n : 0n;
}

export function openReplicationStream(opts: StreamOptions, handlers: StreamHandlers): ReplicationStream {
  const plugin = new TextPgoutputPlugin({
    protoVersion: 1,
    // Quoted, so a publication name keeps its case (pgoutput splits and down-cases otherwise).
    publicationNames: [`"${opts.publication}"`],
    // Logical messages carry our heartbeat (pg_logical_emit_message) through the stream.
    messages: true,
  });
  const service = new LogicalReplicationService(
    { ...opts.connection, application_name: opts.applicationName ?? 'carecycle-sync capture' },
    { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
  );
  let failure: Error | undefined;
  let stopped = false;
  let starting = false;
  service.on('data', (_lsn: string, msg: Pgoutput.Message) => handlers.onMessage(msg));
  // A stop asked for while the stream was starting is carried out here, once it has started.
  service.on('start', () => {
    starting = false;
    if (stopped) void service.stop().catch(() => undefined);
    else handlers.onStart?.();
  });
  service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
    plugin.lastReceivedAt = Date.now();
    handlers.onKeepalive(parseLsn(lsn), shouldRespond);
  });
  // Connection errors surface here as well as through run(); a handler that throws also lands
  // here (the library then moves on to the next message!), so any error ends the stream.
  service.on('error', (err: Error) => {
    failure ??= err;
    void service.stop().catch(() => undefined);
  });

  return {
    async run(startLsn: Lsn): Promise<void> {
      if (stopped) return;
      starting = true;
      try {
        await service.subscribe(plugin, opts.slot, formatLsn(startLsn));
      } finally {
        starting = false;
      }
      if (failure) throw failure;
    },
    confirm: (lsn, requestReply = false) =>
      service.isStop() ? Promise.resolve(false) : service.acknowledge(formatLsn(acknowledgeArgument(lsn)), requestReply),
    get received() {
      return plugin.received;
    },
    get lastReceivedAt() {
      return plugin.lastReceivedAt;
    },
    // While the stream starts, ending its client can hang for ever: pg's connect() never
    // settles when end() is called during it. The 'start' listener stops it instead, which is
    // also why this is stop() and not destroy() (that would remove the listener).
    stop: async () => {
      stopped = true;
      if (starting) return;
      await service.stop().catch(() => undefined);
    },
  };
}
