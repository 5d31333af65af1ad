/** `npm run docs:config`: writes docs/config-reference.md from the config schema. */
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../src/commands/config-reference.js';

const target = 'docs/config-reference.md';
writeFileSync(target, renderConfigReference());
process.stdout.write(`wrote ${target}\n`);
