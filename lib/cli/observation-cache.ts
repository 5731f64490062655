import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENV } from '../core/env-names.js';
import { refKey, type InventoryEntry } from '../core/inventory.js';

/** What one file of the cache holds: whose observations they are, and the observations. */
interface CacheFile {
  readonly server: string;
  readonly target: string;
  readonly entries: readonly InventoryEntry[];
}

/** The observations of one target on one API server, kept between CLI runs that name no ledger. */
export interface ObservationCache {
  /** The observations recorded by earlier runs (none when the file is missing, unreadable or someone else's). */
  readonly entries: readonly InventoryEntry[];
  /** Keeps `entries` (the newest observation of each object) for the next run. */
  save(entries: readonly InventoryEntry[]): void;
}

/** The most entries one file keeps (a bound on what a run reads back). */
const MAX_ENTRIES = 50_000;

const observed = (e: InventoryEntry): boolean => typeof e.digest === 'string' && typeof e.resourceVersion === 'string';

/**
 * A file per (API server, target) under DRIFTLESS_CACHE_DIR (default `.driftless/cache`, as the chart cache) with
 * what a ledger's inventory would hold: each object's desired digest and live resourceVersion and generation after
 * driftless applied it or found it unchanged. It only ever spares a dry run (lib/targets/kubernetes/apply-cache.ts):
 * an object whose live resourceVersion moved since, whoever wrote it, is dry-run again; a missing, stale or
 * corrupt file costs one dry run per object, never a wrong answer. The key includes the server URL, so two
 * clusters never share observations.
 */
export const observationCache = (o: { env: Record<string, string | undefined>; cwd: string; server: string; target: string }): ObservationCache => {
  const dir = join(o.env[ENV.cacheDir] ?? resolve(o.cwd, '.driftless', 'cache'), 'observations');
  const file = join(dir, `${createHash('sha256').update(o.server).update('\0').update(o.target).digest('hex').slice(0, 32)}.json`);
  let entries: readonly InventoryEntry[] = [];
  try {
    const got = JSON.parse(readFileSync(file, 'utf8')) as Partial<CacheFile>;
    if (got.server === o.server && got.target === o.target && Array.isArray(got.entries)) entries = got.entries.filter(observed);
  } catch {
    // no cache yet (or an unreadable one): every object is dry-run once
  }
  return {
    entries,
    save(next) {
      const newest = new Map<string, InventoryEntry>();
      for (const e of next) if (observed(e)) newest.set(refKey(e), e);
      const body: CacheFile = { server: o.server, target: o.target, entries: [...newest.values()].slice(0, MAX_ENTRIES) };
      try {
        mkdirSync(dir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        // Digests of Secrets are among them (as in the ledger): readable by the user only.
        writeFileSync(tmp, JSON.stringify(body), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        // a read-only checkout: the next run dry-runs again
      }
    },
  };
};
