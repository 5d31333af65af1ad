/**
 * What a composition root acquired, released in reverse order of acquisition: the last thing
 * opened (a server, a client built on a pool) goes first, the pools it used go last. Set-up
 * registers each resource right after acquiring it, so a failure half-way releases exactly what
 * was already acquired.
 *
 * A small stack rather than `AsyncDisposableStack`: Node 20 has neither it nor `await using`
 * without a polyfill and a newer TypeScript lib, and the roots need only push and release.
 */
export type Release = () => unknown;

export class Releasers {
  private readonly stack: Array<{ name: string; release: Release }> = [];
  private releasing: Promise<void> | null = null;

  /** Registers how to release `resource` (just acquired) and returns it. */
  add<T>(name: string, resource: T, release: (resource: T) => unknown): T {
    this.defer(name, () => release(resource));
    return resource;
  }

  /** Registers a release step with no resource of its own (a listener to remove, a timer to stop). */
  defer(name: string, release: Release): void {
    if (this.releasing) throw new Error(`cannot acquire ${name}: already released`);
    this.stack.push({ name, release });
  }

  /**
   * Runs every step once, last registered first. A step that fails does not stop the others; the
   * first failure is thrown once all have run. Calling it again waits for the same release.
   */
  release(): Promise<void> {
    this.releasing ??= (async () => {
      let failure: { err: unknown } | undefined;
      for (const step of this.stack.splice(0).reverse()) {
        try {
          await step.release();
        } catch (err) {
          failure ??= { err };
        }
      }
      if (failure) throw failure.err;
    })();
    return this.releasing;
  }
}

/**
 * Runs `setUp` with a fresh stack; when it throws, releases what it had acquired and rethrows.
 * On success the caller owns the stack (returned with the result) and releases it later.
 */
export async function acquire<T>(setUp: (releasers: Releasers) => Promise<T>): Promise<{ value: T; releasers: Releasers }> {
  const releasers = new Releasers();
  try {
    return { value: await setUp(releasers), releasers };
  } catch (err) {
    await releasers.release().catch(() => undefined);
    throw err;
  }
}
