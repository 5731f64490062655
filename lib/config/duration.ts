/** Parses a Go-style duration (`90s`, `5m`, `1h30m`, `250ms`) into milliseconds; undefined when malformed. */
export const parseDuration = (text: string): number | undefined => {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const unit = m[2] === 'ms' ? 1 : m[2] === 's' ? 1_000 : m[2] === 'm' ? 60_000 : 3_600_000;
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : undefined;
};
