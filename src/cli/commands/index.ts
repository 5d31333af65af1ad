import type { Command } from 'commander';
import { register as setup } from './setup.js';
import { register as teardown } from './teardown.js';
import { register as standIn } from './stand-in.js';

/** Every command registers itself here; a command appears only once it works. */
export const commands: Array<(program: Command) => void> = [setup, teardown, standIn];
