/**
 * One doctor check: a small, named verdict with the statement or action that fixes it.
 * `warn` marks a passing check that still deserves a look (it never changes the exit code).
 */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  warn?: boolean;
}

export interface DoctorReport {
  ok: boolean;
  checks: CheckResult[];
}

export const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
export const warn = (name: string, detail: string, fix?: string): CheckResult => ({
  name,
  ok: true,
  warn: true,
  detail,
  ...(fix ? { fix } : {}),
});
export const fail = (name: string, detail: string, fix?: string): CheckResult => ({ name, ok: false, detail, ...(fix ? { fix } : {}) });

export function report(checks: CheckResult[]): DoctorReport {
  return { ok: checks.every((c) => c.ok), checks };
}
