import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/logger.js';
import { scrub } from '../../log/secrets.js';
import type { ActionResult, Selection } from '../../deliver/dead-letters.js';
import { readinessWithin, type Readiness } from '../health.js';
import { emptyReport, type StatusReport } from '../status/collect.js';
import type { HeldSummary } from '../../deliver/held.js';
import { authorize, parseSelection, refusal } from './actions.js';
import { contentSecurityPolicy, renderPage } from './page.js';

/**
 * The operator's console on the health port: `GET /` (the status page), `GET /status.json`
 * (the document `status --json` prints) and the token-protected JSON actions
 * `POST /dead-letters/retry`, `POST /dead-letters/discard` and `POST /approve`.
 * The token is compared, never logged; the answers carry keys and counts only.
 */

export interface ConsoleOptions {
  status: () => Promise<StatusReport>;
  /** What the page names when the status document cannot be read. */
  source: StatusReport['source'] & { stateSchema: string };
  readiness: () => Promise<Readiness>;
  /** server.adminToken; without it the page is read-only and actions answer 403. */
  adminToken?: string;
  retry: (sel: Selection) => Promise<ActionResult>;
  discard: (sel: Selection) => Promise<ActionResult>;
  /** Releases what the mass-cancellation rail holds; returns what was held. */
  approve: () => Promise<HeldSummary>;
  log: Logger;
}

/** Handles a console path and returns true, or returns false for the health server to go on. */
export type ConsoleRoutes = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

const MAX_BODY = 1024 * 1024;
const STATUS_TIMEOUT_MS = 5000;
const ACTIONS = new Set(['/dead-letters/retry', '/dead-letters/discard', '/approve']);

export function consoleRoutes(o: ConsoleOptions): ConsoleRoutes {
  const log = o.log.child({ component: 'console' });
  const actions = Boolean(o.adminToken);
  return async (req, res, path) => {
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/' || path === '/status.json') {
      if (!get) return refuseMethod(res, 'GET, HEAD');
      const [status, ready] = await Promise.all([within(o.status(), STATUS_TIMEOUT_MS), readinessWithin(o.readiness, STATUS_TIMEOUT_MS)]);
      if (path === '/status.json') {
        return 'error' in status ? json(res, 503, { error: status.error }) : json(res, 200, status);
      }
      // The page still answers when the state database does not: readiness says what is wrong.
      const doc = 'error' in status ? unavailable(o.source, status.error) : status;
      send(res, 200, 'text/html; charset=utf-8', scrub(renderPage(doc, ready, { actions })), {
        'Content-Security-Policy': contentSecurityPolicy(actions),
      });
      return true;
    }
    if (!ACTIONS.has(path)) return false;
    if (req.method !== 'POST') return refuseMethod(res, 'POST');
    const auth = authorize(req.headers.authorization, o.adminToken);
    if (auth !== 'ok') {
      const r = refusal(auth);
      log.warn({ path, refused: auth }, 'console action refused');
      return json(res, r.status, { error: r.error }, r.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="carecycle-sync"' } : {});
    }
    if (path === '/approve') {
      const held = await o.approve();
      if (held.customers === 0) return json(res, 409, { error: 'nothing to approve: no records are held' });
      log.warn(
        { action: 'approve', customers: held.customers, policies: held.policies },
        'held records approved from the status page: they are sent now',
      );
      return json(res, 200, { approved: { customers: held.customers, policies: held.policies } });
    }
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      return json(res, 415, { error: 'Content-Type: expected application/json' });
    const body = await readBody(req);
    if (body === null) return json(res, 413, { error: `body: larger than ${MAX_BODY} bytes` });
    const sel = parseSelection(body);
    if ('error' in sel) return json(res, 400, { error: sel.error });
    const verb = path === '/dead-letters/retry' ? 'retry' : 'discard';
    const result = verb === 'retry' ? await o.retry(sel) : await o.discard(sel);
    log.info({ action: verb, all: 'all' in sel, done: result.done.length, unknown: result.unknown.length }, `dead letters: ${verb}`);
    return json(res, 200, { [verb === 'retry' ? 'retried' : 'discarded']: result.done, unknown: result.unknown });
  };
}

/** The promise's value, or its error (or a timeout) as text. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ error: string }>((resolve) => {
    timer = setTimeout(() => resolve({ error: `status took longer than ${ms} ms` }), ms);
  });
  try {
    return await Promise.race([p.catch((err: unknown) => ({ error: scrub((err as Error)?.message ?? String(err)) })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A status document that says only that it could not be read. */
function unavailable(source: ConsoleOptions['source'], error: string): StatusReport {
  const { stateSchema, ...src } = source;
  return { ...emptyReport(src, stateSchema), problems: [`status unavailable: ${error}`] };
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  send(res, status, 'application/json', scrub(JSON.stringify(body, null, 2)), headers);
  return true;
}

function refuseMethod(res: ServerResponse, allow: string): true {
  return json(res, 405, { error: `method not allowed; use ${allow}` }, { Allow: allow });
}
