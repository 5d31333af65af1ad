import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { TransientError } from '../errors.js';
import { writeBatch } from '../queue/enqueue.js';
import type { StateDb } from '../state/db.js';
import { PRIORITY } from '../state/tables.js';
import { bindRelation, changeKeys, type Binding, type KeyLost, type RowChange, type TableRoute } from './changes.js';
import { flushCheckpoint, flushReason, keepaliveConfirm, nextFlushCheckMs, type FlushInputs } from './decisions.js';
import { FlushTimer } from './flush-timer.js';
import { KeyBuffer, type BufferedBatch } from './key-buffer.js';
import { formatLsn, maxLsn, parseLsn, type Lsn } from './lsn.js';
import { openReplicationStream, type ReplicationMessage, type ReplicationStream } from './replication.js';
import type { CaptureStatus } from './status.js';
import { HEARTBEAT_PREFIX, isOwnHeartbeat } from './heartbeat.js';
import { pgConfig } from '../config/pg-connection.js';
import { markConnection } from '../pg/sqlstate.js';

type Msg<T extends ReplicationMessage['tag']> = Extract<ReplicationMessage, { tag: T }>;

export interface SessionOptions {
  config: Config;
  state: StateDb;
  log: Logger;
  routes: ReadonlyMap<string, TableRoute>;
  status: CaptureStatus;
  /** Where to start: max(persisted checkpoint, slot's confirmed_flush_lsn). */
  startLsn: Lsn;
  walSenderTimeoutMs: number;
  statusIntervalMs: number;
  /** Called after a flush made customer keys durable in `pending` (the delivery loop wakes up). */
  onFlushed?: (keys: number) => void;
  /** A problem an operator must fix while capture goes on (shown by `status` as the last error). */
  onProblem?: (message: string) => void;
  /** START_REPLICATION was accepted: the connections and the slot work. */
  onStarted?: () => void;
}

/**
 * One replication connection, from START_REPLICATION until it fails or is stopped. Keys go into
 * a KeyBuffer; a flush writes them with the checkpoint in one state transaction and only then
 * confirms the LSN (docs/architecture.md, "Durability order"). At most one flush is in flight while
 * the next buffer fills, so memory stays at ≤ 2 × flushMaxKeys keys whatever the transaction size.
 */
export class CaptureSession {
  private readonly stream: ReplicationStream;
  private readonly buffer: KeyBuffer;
  private readonly bindings = new Map<number, Binding>();
  private readonly warnedUnattributed = new Set<string>();
  private inTxn = false;
  private handled = 0;
  private lastCommit: Lsn;
  private durable: Lsn;
  private persisted: Lsn;
  private flushing: Promise<void> | null = null;
  private lastFlushAt = Date.now();
  private lastSweepAt = 0;
  private failure: Error | undefined;
  private stopping = false;
  private draining: Promise<void> | null = null;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly flushTimer = new FlushTimer(() => {
    this.tick();
    this.armTick();
  });
  /** START_REPLICATION was accepted during this session. */
  started = false;

  constructor(private readonly o: SessionOptions) {
    this.lastCommit = this.durable = this.persisted = o.startLsn;
    this.buffer = new KeyBuffer((route, change) => this.onUnattributed(route, change));
    this.stream = openReplicationStream(
      { connection: pgConfig(o.config, 'source', {}), slot: o.config.source.slot, publication: o.config.source.publication },
      { onMessage: (m) => this.onMessage(m), onKeepalive: (w, r) => this.onKeepalive(w, r), onStart: () => this.onStart() },
    );
  }

  /** Streams until `signal` aborts (then drains: final flush, resolves) or the stream fails (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = () => {
      this.draining = this.stop();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    this.armTick();
    this.timers.push(setInterval(() => this.sendStatus(), this.o.statusIntervalMs));
    try {
      await this.stream.run(this.o.startLsn);
      if (!this.failure && !this.stopping) this.failure = new TransientError('the replication stream ended');
    } catch (err) {
      markConnection(err, 'replication');
      this.failure ??= err as Error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      for (const t of this.timers) clearInterval(t);
      this.flushTimer.end();
      if (this.draining) await this.draining;
      await this.stream.stop();
      await this.settleFlushes();
      this.o.status.connected = false;
    }
    if (this.failure) throw this.failure;
  }

  /** The stream loop: each message kind has its own handler; `handled` counts what is done. */
  private async onMessage(msg: ReplicationMessage): Promise<void> {
    try {
      switch (msg.tag) {
        case 'begin':
          this.inTxn = true;
          break;
        case 'relation':
          this.onRelation(msg);
          break;
        case 'insert':
        case 'update':
        case 'delete':
          await this.onRow(msg);
          break;
        case 'truncate':
          this.onTruncate(msg);
          break;
        case 'message':
          this.onLogicalMessage(msg);
          break;
        case 'commit':
          this.onCommit(msg);
          break;
        default:
          break; // type, origin: nothing to capture
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.handled++;
    }
  }

  private onStart(): void {
    this.started = true;
    this.o.status.connected = true;
    this.o.log.info({ slot: this.o.config.source.slot, from: formatLsn(this.o.startLsn) }, 'replication stream started');
    this.o.onStarted?.();
  }

  private onRelation(msg: Msg<'relation'>): void {
    const binding = bindRelation(this.o.routes, msg);
    this.bindings.set(msg.relationOid, binding);
    if ('keyLost' in binding && binding.keyLost) {
      this.o.status.schemaProblems = [...new Set([...this.o.status.schemaProblems, binding.keyLost.message])];
      this.o.log.error({ table: `${msg.schema}.${msg.name}`, configKey: binding.keyLost.path }, binding.keyLost.message);
      this.o.status.lastError = { message: binding.keyLost.message, at: new Date() };
      this.o.onProblem?.(binding.keyLost.message);
    }
    this.o.log.debug({ table: `${msg.schema}.${msg.name}`, watched: binding.route !== null }, 'relation');
  }

  private async onRow(msg: Msg<'insert'> | Msg<'update'> | Msg<'delete'>): Promise<void> {
    const binding = this.bindings.get(msg.relation.relationOid) ?? this.bindAnew(msg.relation);
    if (!binding.route) return;
    this.o.status.changesSeen++;
    if ('keyLost' in binding && binding.keyLost) return this.onRowWithoutKey(binding.route, binding.keyLost, msg as RowChange);
    changeKeys(binding.route, msg as RowChange, this.buffer);
    this.armTick();
    // The row may have moved from a customer this update cannot name (see Binding.movesUnseen).
    if ('movesUnseen' in binding && binding.movesUnseen && msg.tag === 'update' && !msg.old && !msg.key)
      this.buffer.unattributed(binding.route, msg as RowChange);
    if (this.buffer.size >= this.o.config.sync.flushMaxKeys) await this.flushWhenFull();
  }

  /** A change on a table whose configured key column is gone (see KeyLost in changes.ts). */
  private async onRowWithoutKey(route: TableRoute, lost: KeyLost, change: RowChange): Promise<void> {
    const policyKey = lost.byPolicyKey ? (change.new ?? change.old ?? change.key)?.[route.policyColumn!] : undefined;
    if (policyKey !== undefined && policyKey !== null) this.buffer.policy(String(policyKey), change.tag === 'delete');
    else if (route.role === 'policies') this.buffer.truncatedPolicies = true;
    else this.buffer.truncatedCustomers = true;
    this.armTick();
    if (this.buffer.size >= this.o.config.sync.flushMaxKeys) await this.flushWhenFull();
  }

  private bindAnew(rel: Msg<'relation'>): Binding {
    this.onRelation(rel);
    return this.bindings.get(rel.relationOid)!;
  }

  /** A truncate has no rows: every customer that could have lost data is re-sent (resolved in SQL). */
  private onTruncate(msg: Msg<'truncate'>): void {
    for (const rel of msg.relations) {
      const route = this.o.routes.get(`${rel.schema}.${rel.name}`);
      if (!route) continue;
      this.o.log.warn({ table: route.table }, 'TRUNCATE of a watched table: re-sending every customer ever sent from it');
      if (route.role === 'policies') this.buffer.truncatedPolicies = true;
      else this.buffer.truncatedCustomers = true;
    }
    this.armTick();
  }

  private onLogicalMessage(msg: Msg<'message'>): void {
    if (msg.prefix === HEARTBEAT_PREFIX && isOwnHeartbeat(msg.content, this.o.config.source.slot)) {
      this.o.status.lastHeartbeatAt = new Date();
    }
  }

  private onCommit(msg: Msg<'commit'>): void {
    this.inTxn = false;
    this.lastCommit = maxLsn(this.lastCommit, parseLsn(msg.commitEndLsn));
    this.armTick();
  }

  /** Warned once per table and session (a bulk delete must not flood the log), counted always. */
  private onUnattributed(route: TableRoute, change: RowChange): void {
    this.o.status.unattributedChanges++;
    if (this.warnedUnattributed.has(route.table)) return;
    this.warnedUnattributed.add(route.table);
    const fix = `ALTER TABLE ${route.table} REPLICA IDENTITY FULL would carry it`;
    this.o.log.warn(
      { table: route.table, change: change.tag },
      change.tag === 'update'
        ? `an update on ${route.table} carries no old row: if it moved the row to another customer, the previous customer is not re-sent (${fix}); further ones are only counted (carecycle_sync_changes_without_old_customer_total)`
        : `a ${change.tag} on ${route.table} carries no customer key, so no customer is re-sent (${fix}); further ones are only counted (carecycle_sync_changes_without_old_customer_total)`,
    );
  }

  private onKeepalive(walEnd: Lsn, shouldRespond: boolean): void {
    // After a failure nothing more becomes durable in this session (see startFlush).
    if (this.failure) return;
    const pos = keepaliveConfirm({
      walEnd,
      durable: this.durable,
      lastCommit: this.lastCommit,
      inTransaction: this.inTxn,
      unhandledMessages: this.stream.received - this.handled,
      bufferedKeys: this.buffer.size,
      bufferedTruncate: this.buffer.hasTruncate,
      flushing: this.flushing !== null,
    });
    if (pos !== null) {
      this.durable = pos;
      this.armTick();
    }
    if (pos !== null || shouldRespond) this.sendStatus(false);
  }

  /** Re-sends the last durable LSN: keeps wal_sender_timeout at bay even while a flush is slow. */
  private sendStatus(requestReply = true): void {
    void this.stream.confirm(this.durable, requestReply).then((sent) => {
      if (sent) this.o.status.lastConfirmedLsn = formatLsn(this.durable);
    });
    if (!requestReply) return;
    // Inbound silence: we asked for a reply every status interval; none for 2 × timeout while
    // idle means a dead or half-open connection. (While a flush runs the socket is paused.)
    const silentMs = Date.now() - this.stream.lastReceivedAt;
    const idle = this.flushing === null && this.stream.received === this.handled;
    if (this.o.walSenderTimeoutMs > 0 && idle && silentMs > 2 * this.o.walSenderTimeoutMs) {
      this.fail(new TransientError(`nothing received from the walsender for ${Math.round(silentMs / 1000)} s: reconnecting`));
    }
  }

  private flushInputs(): FlushInputs {
    return {
      bufferedKeys: this.buffer.size,
      bufferedTruncate: this.buffer.hasTruncate,
      maxKeys: this.o.config.sync.flushMaxKeys,
      sinceLastFlushMs: Date.now() - this.lastFlushAt,
      intervalMs: this.o.config.sync.flushIntervalMs,
      lastCommit: this.lastCommit,
      durable: this.durable,
      persisted: this.persisted,
      flushing: this.flushing !== null,
    };
  }

  private tick(): void {
    if (this.stopping) return;
    if (flushReason(this.flushInputs())) this.startFlush();
  }

  /**
   * The flush timer is set only while something waits to be flushed or persisted, for when it
   * is due; every change, commit, keepalive position and finished flush asks again. An idle
   * stream sets none (it used to check ten times a second).
   */
  private armTick(): void {
    if (!this.stopping) this.flushTimer.request(nextFlushCheckMs(this.flushInputs()));
  }

  /** Backpressure: with one flush already in flight, wait for it before starting the next. */
  private async flushWhenFull(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.failure && this.buffer.size >= this.o.config.sync.flushMaxKeys) this.startFlush();
  }

  /**
   * Never after a failure: a failed flush took its keys out of the buffer, so a later flush would
   * write a checkpoint that covers them without them. The session ends instead, and the next one
   * streams again from the last durable checkpoint.
   */
  private startFlush(): void {
    if (this.failure) return;
    const batch = this.buffer.take();
    const upTo = flushCheckpoint(this.lastCommit, this.durable);
    this.lastFlushAt = Date.now();
    const p = this.writeFlush(batch, upTo).catch((err: unknown) => {
      markConnection(err, 'state');
      this.fail(new TransientError(`writing keys to the state database failed: ${(err as Error).message}`, { cause: err }));
    });
    this.flushing = p.finally(() => {
      this.flushing = null;
      this.armTick();
    });
  }

  private async writeFlush(batch: BufferedBatch, upTo: Lsn): Promise<void> {
    const checkpoint = upTo > this.persisted ? { slot: this.o.config.source.slot, lsn: formatLsn(upTo) } : undefined;
    const empty = batch.customers.length === 0 && batch.policies.length === 0 && !batch.truncatedCustomers && !batch.truncatedPolicies;
    if (empty && !checkpoint) return;
    const t0 = performance.now();
    const sweepUnresolved = Date.now() - this.lastSweepAt >= 1000;
    if (sweepUnresolved) this.lastSweepAt = Date.now();
    await writeBatch(this.o.state, {
      sweepUnresolved,
      keys: batch.customers,
      priority: PRIORITY.live,
      policyKeys: batch.policies,
      deletedPolicyKeys: batch.deletedPolicies,
      allSentCustomers: batch.truncatedCustomers,
      allSentPolicyCustomers: batch.truncatedPolicies,
      checkpoint,
    });
    // Durable now: only from here may Postgres hear about upTo.
    this.persisted = maxLsn(this.persisted, upTo);
    this.durable = maxLsn(this.durable, upTo);
    this.o.status.flushes++;
    this.o.status.keysFlushed += batch.customers.length;
    this.o.status.flushMs += performance.now() - t0;
    this.o.log.debug(
      {
        customers: batch.customers.length,
        policies: batch.policies.length,
        checkpoint: checkpoint?.lsn,
        ms: Math.round(performance.now() - t0),
      },
      'flushed',
    );
    if (!empty) this.o.onFlushed?.(batch.customers.length + batch.policies.length);
    if (!this.stopping) this.sendStatus(false);
  }

  /**
   * Drain: write what was gathered (its checkpoint covers finished commits only), confirm it,
   * then stop reading. Messages handled meanwhile are simply replayed at the next start.
   */
  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.settleFlushes();
    if (!this.failure) this.startFlush();
    await this.settleFlushes();
    if (!this.failure) await this.stream.confirm(this.durable).catch(() => false);
    await this.stream.stop();
  }

  private async settleFlushes(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.o.log.warn({ err: err.message }, 'capture session failed');
    void this.stream.stop();
  }
}
