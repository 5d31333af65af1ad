import type * as Undici from 'undici';
import DispatcherClass from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import ProxyAgentClass from 'undici/lib/dispatcher/proxy-agent.js';

/**
 * The two undici dispatchers the daemon uses, loaded without undici's index, which also loads
 * fetch, WebSocket, EventSource, the HTTP cache, the mocks and more: half a megabyte of code
 * that a long-running daemon would carry for nothing (docs/footprint.md). What the index does
 * for these classes is done here too: it gives every dispatcher the request API
 * (`dispatcher.request(…)`). The types are undici's own; test/deliver/undici-lean.test.ts
 * checks that these are the classes the index exports.
 */
Object.assign((DispatcherClass as { prototype: object }).prototype, api);

export const Pool = PoolClass as typeof Undici.Pool;
export const ProxyAgent = ProxyAgentClass as typeof Undici.ProxyAgent;
export type Dispatcher = Undici.Dispatcher;
