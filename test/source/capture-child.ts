/**
 * Capture in a child process, for tests that SIGKILL it: `node --import tsx capture-child.ts`
 * with the config as JSON in CAPTURE_CONFIG. Prints "connected" once streaming and "standby"
 * while waiting for the slot lock; SIGTERM drains and exits 0.
 */
import { validateConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { createCapture } from '../../src/source/capture.js';
import { openStateDb } from '../../src/state/db.js';

const config = validateConfig(JSON.parse(process.env.CAPTURE_CONFIG ?? '{}'));
const state = openStateDb(config, { max: 2 });
const log = createLogger({ level: process.env.CAPTURE_CHILD_LOG ?? 'silent', pretty: false, destination: process.stderr });
const capture = createCapture({ config, state, log, lockPollMs: 100 });
const ac = new AbortController();
process.on('SIGTERM', () => ac.abort());

let said = '';
const timer = setInterval(() => {
  const s = capture.status();
  const now = s.connected ? 'connected' : s.isStandby ? 'standby' : '';
  if (now && now !== said) process.stdout.write(`${now}\n`);
  said = now || said;
}, 20);

void capture
  .run(ac.signal)
  .then(
    () => 0,
    (err: unknown) => {
      process.stderr.write(`capture failed: ${(err as Error).message}\n`);
      return 1;
    },
  )
  .then(async (code) => {
    clearInterval(timer);
    await state.close();
    process.exit(code);
  });
