import type { KeySink, RowChange, TableRoute } from './changes.js';

/**
 * Keys gathered since the last flush: distinct customer keys, distinct policy keys to resolve
 * through sent_policies, and truncates. Memory is bounded by distinct keys, not by changes:
 * the capture flushes when `size` reaches flushMaxKeys.
 */
export interface BufferedBatch {
  customers: string[];
  policies: string[];
  /** Of `policies`, those that were deleted: kept as unresolved when nothing was sent for them yet. */
  deletedPolicies: string[];
  truncatedCustomers: boolean;
  truncatedPolicies: boolean;
}

export class KeyBuffer implements KeySink {
  private customers = new Set<string>();
  private policies = new Set<string>();
  private deletedPolicies = new Set<string>();
  truncatedCustomers = false;
  truncatedPolicies = false;
  unattributedCount = 0;

  constructor(private readonly onUnattributed: (route: TableRoute, change: RowChange) => void = () => undefined) {}

  customer(key: string): void {
    this.customers.add(key);
  }

  policy(policyKey: string, deleted = false): void {
    this.policies.add(policyKey);
    if (deleted) this.deletedPolicies.add(policyKey);
  }

  unattributed(route: TableRoute, change: RowChange): void {
    this.unattributedCount++;
    this.onUnattributed(route, change);
  }

  get size(): number {
    return this.customers.size + this.policies.size;
  }

  get hasTruncate(): boolean {
    return this.truncatedCustomers || this.truncatedPolicies;
  }

  /** Hands over everything buffered and starts empty. */
  take(): BufferedBatch {
    const batch: BufferedBatch = {
      customers: [...this.customers],
      policies: [...this.policies],
      deletedPolicies: [...this.deletedPolicies],
      truncatedCustomers: this.truncatedCustomers,
      truncatedPolicies: this.truncatedPolicies,
    };
    this.customers = new Set();
    this.policies = new Set();
    this.deletedPolicies = new Set();
    this.truncatedCustomers = false;
    this.truncatedPolicies = false;
    return batch;
  }
}
