/**
 * Warnings the summary reporter prints right before its last line (lost coverage, a collapsed
 * matrix). Kept on globalThis: vitest loads the config, the global setups and the reporters
 * through different module loaders in the same process, so a module variable would not be shared.
 */
const KEY = Symbol.for('carecycle-sync.test.run-notes');

type Holder = { [KEY]?: string[] };

export function runNotes(): string[] {
  const g = globalThis as Holder;
  return (g[KEY] ??= []);
}

export function addRunNote(note: string): void {
  const notes = runNotes();
  if (!notes.includes(note)) notes.push(note);
}
