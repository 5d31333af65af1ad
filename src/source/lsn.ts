/**
 * LSNs as BigInt. The library hands them out unpadded ("2/2C3EDB0") from the stream header and
 * zero-padded ("00000002/02C3EDB0", or null for 0/0) inside messages; compared as strings they
 * sort wrongly, so everything here converts to BigInt first (docs/replication.md, trap 11).
 */
export type Lsn = bigint;

export function parseLsn(text: string | null | undefined): Lsn {
  if (!text) return 0n;
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not an LSN: "${text}"`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** Postgres' own format: upper-case hex, no padding, e.g. `0/16B3748`. */
export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

export const maxLsn = (a: Lsn, b: Lsn): Lsn => (a > b ? a : b);
