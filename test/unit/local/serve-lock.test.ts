import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireServeLock, LOCK_FILE } from '../../../lib/local/serve-lock.js';

/** The pid of a process that has exited (a stale lock's holder). */
const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
};

describe('the serve lock', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'driftless-lock-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('holds the pid of its serve and is removed on release', () => {
    const d = dir();
    const lock = acquireServeLock(d);
    expect(readFileSync(join(d, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('refuses a second serve while the first one lives, with one line naming its pid', () => {
    const d = dir();
    const lock = acquireServeLock(d);
    let message = '';
    try {
      acquireServeLock(d);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`another driftless serve (pid ${process.pid}) is running in ${d}; stop it first (lock file ${join(d, LOCK_FILE)})`);
    expect(message).not.toContain('\n');
    // The first serve's lock is untouched.
    expect(readFileSync(join(d, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
  });

  it('takes over the lock of a serve that died (and an empty one)', () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), `${deadPid()}\n`);
    const lock = acquireServeLock(d);
    expect(readFileSync(join(d, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    writeFileSync(join(d, LOCK_FILE), '');
    acquireServeLock(d).release();
  });

  it('release leaves a lock another serve took over alone', () => {
    const d = dir();
    const lock = acquireServeLock(d);
    writeFileSync(join(d, LOCK_FILE), '1\n');
    lock.release();
    expect(readFileSync(join(d, LOCK_FILE), 'utf8')).toBe('1\n');
  });
});
