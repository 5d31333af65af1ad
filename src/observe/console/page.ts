import { createHash } from 'node:crypto';
import type { Readiness } from '../health.js';
import type { StatusReport } from '../status/collect.js';
import { formatAgo, formatBytes, formatCount, formatDuration } from '../../lib/units.js';
import { renderMain, VIEW_FUNCTIONS, type Fmt } from './view.js';

/**
 * The status page: one self-contained HTML document (inline style and script, no external
 * assets, so it works on an air-gapped host). The server renders the figures into it; the
 * script then re-renders the body every few seconds from /status.json and /readyz with the
 * very same functions (their source is shipped in the script), and sends the dead-letter
 * actions as JSON POSTs with the token typed into the page (kept in memory only).
 * A Content-Security-Policy allows only this script (by hash) and requests to this origin.
 */

export const SERVER_FORMAT: Fmt = {
  bytes: formatBytes,
  count: formatCount,
  duration: formatDuration,
  ago: (at, now) => formatAgo(at, now),
};

const REFRESH_MS = 5000;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f5f6f8;color:#1d2330}
.top{display:flex;gap:1em;align-items:center;padding:.6em 1em;background:#1d2330;color:#fff}
.top h1{font-size:1.1em;margin:0}.top label{margin-left:auto}.top input{width:16em}
main{padding:0 1em 1em}.state{margin-bottom:1em}.why{margin:.3em 0 0 1.2em;padding:0}
.badge{display:inline-block;padding:.15em .6em;border-radius:1em;font-weight:600;color:#fff}
.ok{background:#1b7f3b}.warn{background:#b26a00}.bad{background:#b3261e;color:#fff;padding:0 .3em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:1em}
.card{background:#fff;border-radius:6px;padding:.8em 1em;box-shadow:0 1px 2px #0002}.wide{grid-column:1/-1}
.card h2{font-size:1em;margin:0 0 .5em}.card h3{font-size:.9em;margin:.8em 0 .3em}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}dt{color:#5a6275}dd{margin:0}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.2em .5em;border-bottom:1px solid #e3e6ec;vertical-align:top}
td.n{text-align:right}.spark{color:#2458c6;vertical-align:middle}#note{margin:.4em 1em 0;color:#b3261e;min-height:1.4em}
`;

/** The browser script: the view's functions, the formatters, refresh and actions. */
function clientScript(actions: boolean): string {
  const fns = [...VIEW_FUNCTIONS, formatBytes, formatDuration, formatAgo, formatCount].map((fn) => fn.toString()).join('\n');
  return `"use strict";
var __name = function (f) { return f; };
${fns}
var F = { bytes: ${formatBytes.name}, count: ${formatCount.name}, duration: ${formatDuration.name}, ago: function (at, now) { return ${formatAgo.name}(at, now); } };
var ACTIONS = ${JSON.stringify(actions)};
var selected = new Set();
var main = document.getElementById('main');
function note(text) { document.getElementById('note').textContent = text; }
async function get(path) {
  var r = await fetch(path, { cache: 'no-store' });
  if (!r.ok && !(path === 'readyz' && r.status === 503)) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}
async function refresh() {
  try {
    var docs = await Promise.all([get('status.json'), get('readyz')]);
    main.innerHTML = ${renderMain.name}(docs[0], docs[1], { actions: ACTIONS, now: Date.now() }, F);
    main.querySelectorAll('input[data-key]').forEach(function (b) { b.checked = selected.has(b.getAttribute('data-key')); });
    if (document.getElementById('note').textContent.indexOf('refresh failed') === 0) note('');
    document.body.setAttribute('data-refreshed', String(Date.now()));
  } catch (e) { note('refresh failed (' + e.message + '); the figures shown are older'); }
}
document.addEventListener('change', function (e) {
  var t = e.target;
  if (t && t.matches && t.matches('input[data-key]')) { if (t.checked) selected.add(t.getAttribute('data-key')); else selected.delete(t.getAttribute('data-key')); }
});
document.addEventListener('click', async function (e) {
  var b = e.target && e.target.closest ? e.target.closest('button[data-action]') : null;
  if (!b) return;
  var all = b.hasAttribute('data-all');
  var approve = b.getAttribute('data-action') === 'approve';
  var body = approve ? {} : all ? { all: true } : { keys: Array.from(selected) };
  if (!all && body.keys.length === 0) return note('select dead letters first');
  var token = document.getElementById('token').value;
  var r = await fetch(b.getAttribute('data-action'), { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token }, body: JSON.stringify(body) });
  var answer = await r.json().catch(function () { return {}; });
  if (r.ok) { selected.clear(); note(b.textContent + ': done for ' + (approve ? answer.approved.customers + ' customers' : (answer.retried || answer.discarded || []).length)); }
  else note(b.textContent + ' failed: HTTP ' + r.status + (answer.error ? ': ' + answer.error : ''));
  refresh();
});
setInterval(refresh, ${REFRESH_MS});
`;
}

const scripts = new Map<boolean, { text: string; hash: string }>();
function scriptFor(actions: boolean): { text: string; hash: string } {
  let s = scripts.get(actions);
  if (!s) {
    const text = clientScript(actions);
    s = { text, hash: createHash('sha256').update(text).digest('base64') };
    scripts.set(actions, s);
  }
  return s;
}

export function contentSecurityPolicy(actions: boolean): string {
  const style = createHash('sha256').update(STYLE).digest('base64');
  return `default-src 'none'; script-src 'sha256-${scriptFor(actions).hash}'; style-src 'sha256-${style}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

export function renderPage(s: StatusReport, r: Readiness, opts: { actions: boolean; now?: number }, f: Fmt = SERVER_FORMAT): string {
  const body = renderMain(s, r, { actions: opts.actions, now: opts.now ?? Date.now() }, f);
  const token = opts.actions
    ? '<label>admin token <input id="token" type="password" autocomplete="off" placeholder="for retry / discard"></label>'
    : '<span>read-only: no admin token is configured</span>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>carecycle-sync status</title><style>${STYLE}</style></head>
<body><div class="top"><h1>carecycle-sync</h1>${token}</div><p id="note" role="status"></p>
<main id="main">${body}</main>
<noscript><p>This page shows the figures as of loading it; reload for fresh ones.</p></noscript>
<script>${scriptFor(opts.actions).text}</script>
</body></html>
`;
}
