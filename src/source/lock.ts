import pg from 'pg';

/**
 * One consumer per slot (docs/architecture.md, "The slot lock"): a session-level advisory lock,
 * keyed by the slot name, held on a dedicated connection to the source database for as long as this
 * instance streams. When the process dies its session ends and the lock is free for a standby. The
 * same connection runs capture's small source queries (slot position, heartbeat).
 */
export class SlotLock {
  private client: pg.Client | null = null;
  private held = false;
  private lostListener: ((err: Error) => void) | null = null;

  constructor(
    private readonly connectionOptions: pg.ClientConfig,
    private readonly slot: string,
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  /** The lock session's connection; only valid while the lock is held. */
  get connection(): pg.Client {
    if (!this.client || !this.held) throw new Error('slot lock not held');
    return this.client;
  }

  /** Called once when the lock connection breaks while held (another instance may take over). */
  onLost(listener: ((err: Error) => void) | null): void {
    this.lostListener = listener;
  }

  /** One attempt; true when this instance holds the lock. Connection errors throw. */
  async tryAcquire(): Promise<boolean> {
    if (this.held) return true;
    const client = await this.connect();
    const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [
      `carecycle_sync:slot:${this.slot}`,
    ]);
    this.held = r.rows[0]?.ok === true;
    return this.held;
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({ ...this.connectionOptions, application_name: 'carecycle-sync lock', keepAlive: true });
    const broken = (err: Error) => {
      if (this.client !== client) return;
      this.client = null;
      const wasHeld = this.held;
      this.held = false;
      void client.end().catch(() => undefined);
      if (wasHeld) this.lostListener?.(err);
    };
    client.on('error', broken);
    client.on('end', () => broken(new Error('the slot lock connection closed')));
    await client.connect();
    this.client = client;
    return client;
  }

  async release(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.held = false;
    // Ending the session releases the lock.
    await client?.end().catch(() => undefined);
  }
}
