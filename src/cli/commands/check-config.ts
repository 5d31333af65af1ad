import type { Command } from 'commander';
import { stringify } from 'yaml';
import { action, withConfigOption, type GlobalOptions } from '../context.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { redactUrl } from '../../log/secrets.js';

/**
 * `carecycle-sync check-config`: validates the config file (with the environment applied) and
 * prints the effective config, defaults filled in, secrets redacted. Makes no connection: the
 * checks against the database catalog are `setup`'s and `doctor`'s. Exit 0 valid, 2 invalid.
 */
export function register(program: Command): void {
  withConfigOption(program.command('check-config'))
    .description('validate the config file and print the effective config with secrets redacted (no connections)')
    .option('--json', 'print JSON instead of YAML')
    .action(
      action((opts: GlobalOptions & { json?: boolean }) => {
        const { config, path } = loadConfig({ path: opts.config });
        const shown = redactConfig(config);
        if (opts.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        else
          process.stdout.write(
            `# ${path}: valid; effective config (environment applied, defaults filled in, secrets redacted)\n${stringify(shown)}`,
          );
        return 0;
      }),
    );
}

/** The config with the API key replaced and connection-string, proxy and key passwords masked. */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.carecycle.apiKey) copy.carecycle.apiKey = '[REDACTED]';
  copy.source.url = redactUrl(copy.source.url);
  if (copy.state.url) copy.state.url = redactUrl(copy.state.url);
  const proxy = copy.carecycle.proxy;
  if (proxy?.httpsUrl) proxy.httpsUrl = redactUrl(proxy.httpsUrl);
  if (proxy?.httpUrl) proxy.httpUrl = redactUrl(proxy.httpUrl);
  for (const tls of [copy.source.tls, copy.state.tls]) if (tls?.keyPassword !== undefined) tls.keyPassword = '[REDACTED]';
  if (copy.server.adminToken) copy.server.adminToken = '[REDACTED]';
  // A webhook URL carries its secret in the path (Slack): show where it goes, not the secret.
  for (const w of copy.alerts.webhooks) w.url = `${new URL(w.url).origin}/[REDACTED]`;
  return copy;
}
