import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Headless Chromium for the tests that look at the status page: the system's browser
 * (Debian's `chromium` package; `.ci/run` installs it), driven by playwright-core, which
 * downloads nothing. CHROMIUM_PATH names another binary. As root Chromium needs --no-sandbox.
 */
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** The browser, or why there is none (for the test to print and skip on). */
export async function launchChromium(): Promise<{ browser: Browser } | { skip: string }> {
  const path = findChromium();
  if (!path) {
    return {
      skip: `no Chromium found (${process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} does not exist` : `looked for ${CANDIDATES.join(', ')}`}): apt-get install -y chromium, or set CHROMIUM_PATH`,
    };
  }
  try {
    const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    return { browser: await chromium.launch({ executablePath: path, args, timeout: 30_000 }) };
  } catch (err) {
    return { skip: `Chromium at ${path} did not start: ${(err as Error).message.split('\n')[0]}` };
  }
}
