import type { Io } from './output.js';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string): number => s.replace(ANSI, '').length;

/** Rows as an aligned table with a header; colour codes do not count toward the width. */
export const table = (io: Io, header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - visible(c))))
      .join('  ')
      .trimEnd();
  return `${[io.isTTY ? `\u001b[1m${line(header)}\u001b[0m` : line(header), ...rows.map(line)].join('\n')}\n`;
};
