import type { Command } from 'commander';

/** Every command registers itself here; a command appears only once it works. */
export const commands: Array<(program: Command) => void> = [];
