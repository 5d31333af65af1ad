/**
 * Keeps secrets out of every line we print. Secrets known at runtime (the API key, database
 * passwords) are registered once; `scrub` removes them, any password in a connection string and
 * anything shaped like a CareCycle key (`cc_…`) from a text. Used by the logger and the CLI's
 * error printer, so a secret can't leak through an error message either.
 */

const secrets = new Set<string>();
const REDACTED = '[REDACTED]';

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) secrets.add(value);
}

/** Registers the password of a connection string (if any) as a secret. */
export function registerUrlSecrets(url: string | undefined): void {
  if (!url) return;
  try {
    const u = new URL(url);
    if (u.password) {
      registerSecret(decodeURIComponent(u.password));
      registerSecret(u.password);
    }
  } catch {
    /* not a URL: nothing to register */
  }
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)@/gi;
const API_KEY_SHAPE = /\bcc_[A-Za-z0-9_-]{3,}/g;
const KEYWORD_PASSWORD = /(password\s*=\s*)('[^']*'|\S+)/gi;

export function scrub(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out
    .replace(URL_PASSWORD, `$1${REDACTED}@`)
    .replace(KEYWORD_PASSWORD, `$1${REDACTED}`)
    .replace(API_KEY_SHAPE, 'cc_' + REDACTED);
}

/** A connection string safe to print: the password replaced. */
export function redactUrl(url: string): string {
  return scrub(url);
}
