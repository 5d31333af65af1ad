/**
 * Where the demo's view goes. On a terminal the panel is redrawn in place (cursor moved up over
 * the previous panel), so the scrollback keeps what came before and the last panel stays on
 * screen after exit. Elsewhere (a pipe, a log file, a test) a summary line every few seconds.
 * Also the sink of the daemon's log lines: on a terminal they would tear the panel, so they are
 * kept and shown in it; elsewhere they go to stderr as usual.
 */
import { renderPanel, summaryLine } from './view.js';
import type { DemoSnapshot } from './stats.js';

export interface Screen {
  /** Called about once a second with fresh figures. */
  draw(s: DemoSnapshot): void;
  /** Prints a plain message line (above the panel on a terminal). */
  message(text: string): void;
  /** The last draw, left on screen, plus the final summary line. */
  close(s: DemoSnapshot | undefined): void;
}

export interface ScreenOptions {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Non-terminal: at most one summary line per this many ms (default 3000). */
  lineEveryMs?: number;
}

export function createScreen(o: ScreenOptions): Screen {
  const tty = o.out.isTTY === true;
  let drawn = 0;
  let lastLineAt = 0;
  const every = o.lineEveryMs ?? 3000;
  const erase = () => {
    // \r first: a ^C echoed by the terminal has moved the cursor off column 0.
    if (drawn > 0) o.out.write(`\r\x1b[${drawn}A\x1b[0J`);
    drawn = 0;
  };
  if (tty) o.out.write('\x1b[?25l'); // hide the cursor while redrawing

  return {
    draw(s) {
      if (!tty) {
        if (Date.now() - lastLineAt < every) return;
        lastLineAt = Date.now();
        o.out.write(`${summaryLine(s)}\n`);
        return;
      }
      const lines = renderPanel(s, Math.max(40, (o.out.columns ?? 100) - 1));
      erase();
      o.out.write(`${lines.join('\n')}\n`);
      drawn = lines.length;
    },
    message(text) {
      erase();
      o.out.write(`${text}\n`);
    },
    close(s) {
      if (tty && s) {
        erase();
        o.out.write(`${renderPanel(s, Math.max(40, (o.out.columns ?? 100) - 1)).join('\n')}\n`);
      }
      drawn = 0;
      if (s) o.out.write(`${summaryLine(s)}\n`);
      if (tty) o.out.write('\x1b[?25h');
    },
  };
}

/** A pino destination keeping the latest lines as short text; `echo` also passes them on. */
export function logRing(size: number, echo?: NodeJS.WritableStream): { write(line: string): void; lines(): string[] } {
  const kept: string[] = [];
  const levels: Record<number, string> = { 60: 'FATAL', 50: 'ERROR', 40: 'WARN', 30: 'INFO', 20: 'DEBUG', 10: 'TRACE' };
  return {
    write(line: string) {
      echo?.write(line);
      try {
        const j = JSON.parse(line) as {
          level?: number;
          time?: string;
          msg?: string;
          component?: string;
          err?: { message?: string } | string;
          deadLettered?: number;
        };
        // "records dead-lettered" warnings: the panel already lists the latest reasons.
        if (j.deadLettered !== undefined) return;
        const time = typeof j.time === 'string' ? j.time.slice(11, 19) : '';
        const err = typeof j.err === 'string' ? j.err : j.err?.message;
        kept.push(
          `${time} ${levels[j.level ?? 30] ?? j.level} ${j.component ? `[${j.component}] ` : ''}${j.msg ?? ''}${err ? `: ${err}` : ''}`,
        );
      } catch {
        kept.push(line.trim());
      }
      if (kept.length > size) kept.splice(0, kept.length - size);
    },
    lines: () => [...kept],
  };
}
