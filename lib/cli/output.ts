import type { ChangeSetEntry } from '../core/change-set.js';
import { formatRef } from '../core/object-ref.js';

/** Where a command writes, and whether stdout/stderr are terminals (colour and progress only on a TTY). */
export interface Io {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  cwd: string;
  env: Record<string, string | undefined>;
  isTTY: boolean;
}

export const processIo = (): Io => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  cwd: process.cwd(),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
});

const CODES: Record<string, string> = { green: '32', yellow: '33', red: '31', dim: '2', bold: '1', cyan: '36' };

/** Colours text on a TTY; plain text otherwise. */
export const paint = (io: Io, color: string, text: string): string => (io.isTTY && CODES[color] ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text);

const ACTION_COLOR: Record<string, string> = { created: 'green', configured: 'yellow', adopted: 'yellow', deleted: 'red', failed: 'red', skipped: 'dim', unchanged: 'dim' };

/** A change-set action, coloured the same in every listing. */
export const paintAction = (io: Io, action: string): string => paint(io, ACTION_COLOR[action] ?? '', action);

/** Change-set entries as aligned lines: action, object, detail. */
export const formatEntries = (io: Io, entries: readonly ChangeSetEntry[], { showUnchanged = true } = {}): string => {
  const shown = entries.filter((e) => showUnchanged || e.action !== 'unchanged');
  const width = Math.max(0, ...shown.map((e) => formatRef(e.ref).length));
  return shown
    .map((e) => {
      const action = paint(io, ACTION_COLOR[e.action] ?? '', e.action.padEnd(10));
      const ref = formatRef(e.ref);
      return `  ${action}  ${e.detail ? ref.padEnd(width) : ref}${e.detail ? `  ${paint(io, 'dim', e.detail)}` : ''}\n`;
    })
    .join('');
};

/** A progress line on stderr, rewritten in place on a TTY and silent otherwise. */
export const progress = (io: Io) => {
  let last = 0;
  return {
    update(text: string): void {
      if (!io.isTTY) return;
      const now = Date.now();
      if (now - last < 80) return;
      last = now;
      io.stderr(`\r\u001b[2K${text}`);
    },
    done(): void {
      if (io.isTTY) io.stderr('\r\u001b[2K');
    },
  };
};

/** Milliseconds as `850 ms` or `2.4 s`. */
export const duration = (ms: number): string => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

/** Machine output (`--json`): two-space indented JSON and a newline, the same for every command. */
export const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

const RESULT_COLOR: Record<string, string> = { succeeded: 'green', failed: 'red', 'timed-out': 'red', running: 'cyan', 'in-progress': 'cyan', superseded: 'dim', skipped: 'dim' };

/** A sync result, coloured the same in every table. */
export const paintResult = (io: Io, result: string): string => paint(io, RESULT_COLOR[result] ?? '', result);

/** An ISO timestamp as `2026-11-21 22:41:16Z` (to the second). */
export const timestamp = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z');
