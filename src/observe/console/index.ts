import type pg from 'pg';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../log/logger.js';
import type { StateDb } from '../../state/db.js';
import { discardDeadLetters, retryDeadLetters } from '../../deliver/dead-letters.js';
import { approveHeld } from '../../deliver/held.js';
import type { Readiness } from '../health.js';
import { redactUrl } from '../../log/secrets.js';
import { collectStatus } from '../status/collect.js';
import { consoleRoutes, type ConsoleRoutes } from './routes.js';

/** The status page and its actions, on the daemon's own pools (the same operations as the CLI). */
export function daemonConsole(o: {
  config: Config;
  state: StateDb;
  crm: pg.Pool;
  readiness: () => Promise<Readiness>;
  log: Logger;
}): ConsoleRoutes {
  return consoleRoutes({
    status: () => collectStatus(o.state, o.crm, o.config),
    source: {
      url: redactUrl(o.config.source.url),
      slot: o.config.source.slot,
      publication: o.config.source.publication,
      stateSchema: o.config.state.schema,
    },
    readiness: o.readiness,
    adminToken: o.config.server.adminToken,
    retry: (sel) => retryDeadLetters(o.state, sel),
    discard: (sel) => discardDeadLetters(o.state, sel),
    approve: () => approveHeld(o.state),
    log: o.log,
  });
}

export { consoleRoutes, type ConsoleOptions, type ConsoleRoutes } from './routes.js';
export { renderPage } from './page.js';
