import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReconcilerError } from '../core/errors.js';

/**
 * The version in driftless's package.json, found by walking up from this module (lib/cli from source,
 * dist/lib/cli when built).
 */
export const packageVersion = (from: string = dirname(fileURLToPath(import.meta.url))): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'driftless' && pkg.version) return pkg.version;
    }
    if (dirname(dir) === dir) throw new ReconcilerError(`package.json of driftless not found above ${from}`);
  }
};
