import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReconcilerError } from '../core/errors.js';

/** The lock of one `serve` in a state directory: the file holds the pid of the serve that took it. */
export interface ServeLock {
  readonly file: string;
  /** Removes the lock file if this process still holds it. */
  release(): void;
}

/** The lock file's name in the state directory. */
export const LOCK_FILE = 'serve.lock';

const readPid = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the serve lock of `stateDir` (`serve.lock`, created exclusively, holding this pid), before serve touches
 * anything else. A lock whose pid is alive refuses with one line; a lock of a dead pid (a serve that was killed)
 * is taken over.
 */
export const acquireServeLock = (stateDir: string, pid: number = process.pid): ServeLock => {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return {
        file,
        release: () => {
          if (readPid(file) === pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new ReconcilerError(`serve lock ${file}: ${(err as Error).message}`);
    }
    const holder = readPid(file);
    if (holder !== undefined && processAlive(holder)) {
      throw new ReconcilerError(`another driftless serve (pid ${holder}) is running in ${stateDir}; stop it first (lock file ${file})`);
    }
    // Stale (its serve died, or the file is empty): moved aside, then taken. Another serve taking it over at the
    // same moment may have replaced it in between: a lock that is not the stale one goes back.
    const aside = `${file}.stale-${pid}`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    if (readPid(aside) !== holder) {
      try {
        renameSync(aside, file);
      } catch {
        rmSync(aside, { force: true });
      }
      continue;
    }
    rmSync(aside, { force: true });
  }
  throw new ReconcilerError(`serve lock ${file}: could not take it (another serve is starting in ${stateDir})`);
};
