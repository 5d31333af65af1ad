import { describe, expect, it } from 'vitest';
import { acquire, Releasers } from '../../src/lib/releasers.js';

describe('releasers', () => {
  it('releases in reverse order of acquisition, each once', async () => {
    const released: string[] = [];
    const r = new Releasers();
    const pool = r.add('pool', { name: 'pool' }, (p) => released.push(p.name));
    r.add('client', { on: pool }, () => released.push('client'));
    r.defer('server', () => released.push('server'));
    await Promise.all([r.release(), r.release()]);
    await r.release();
    expect(released).toEqual(['server', 'client', 'pool']);
    expect(() => r.defer('late', () => undefined)).toThrow(/cannot acquire late: already released/);
  });

  it('a failing step does not stop the others; the first failure is thrown after all ran', async () => {
    const released: string[] = [];
    const r = new Releasers();
    r.defer('a', () => released.push('a'));
    r.defer('b', () => Promise.reject(new Error('b failed')));
    r.defer('c', () => {
      throw new Error('c failed');
    });
    await expect(r.release()).rejects.toThrow('c failed');
    expect(released).toEqual(['a']);
  });

  it('a set-up that fails half-way releases what it had acquired, last first, and rethrows', async () => {
    const released: string[] = [];
    const setUp = acquire(async (r) => {
      r.defer('first', () => released.push('first'));
      await Promise.resolve();
      r.defer('second', async () => {
        await Promise.resolve();
        released.push('second');
      });
      throw new Error('third could not be acquired');
    });
    await expect(setUp).rejects.toThrow('third could not be acquired');
    expect(released).toEqual(['second', 'first']);
  });

  it('a set-up that succeeds hands the stack to the caller, unreleased', async () => {
    const released: string[] = [];
    const { value, releasers } = await acquire(async (r) => r.add('thing', 42, () => released.push('thing')));
    expect(value).toBe(42);
    expect(released).toEqual([]);
    await releasers.release();
    expect(released).toEqual(['thing']);
  });
});
