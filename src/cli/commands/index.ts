import type { Command } from 'commander';
import { register as setup } from './setup.js';
import { register as teardown } from './teardown.js';
import { register as standIn } from './stand-in.js';
import { register as checkConfig } from './check-config.js';
import { register as backfill } from './backfill.js';
import { register as status } from './status.js';
import { register as deadLetters } from './dead-letters.js';
import { register as doctor } from './doctor.js';
import { register as preview } from './preview.js';
import { register as run } from './run.js';
import { register as demo } from './demo.js';
import { register as approve } from './approve.js';
import { register as init } from './init.js';

/** Every command registers itself here; a command appears only once it works. */
export const commands: Array<(program: Command) => void> = [
  demo,
  init,
  setup,
  run,
  backfill,
  preview,
  status,
  deadLetters,
  approve,
  doctor,
  teardown,
  standIn,
  checkConfig,
];
