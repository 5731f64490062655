import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { DEFAULT_INPUT_LIMITS, fileTooLarge } from './limits.js';

/** A repository's files at one commit, read by repository-relative POSIX paths. */
export interface FileTree {
  /** 'file', 'dir', or undefined when nothing is at `path`. */
  kind(path: string): Promise<'file' | 'dir' | undefined>;
  /** The bytes of a file; rejects when it is missing. */
  read(path: string): Promise<Uint8Array>;
  /** Names of a directory's entries, sorted. */
  list(path: string): Promise<string[]>;
}

/** Normalises a repository path: POSIX separators, no `.` segments, '' for the root; undefined if it escapes the root. */
export const normalizePath = (path: string): string | undefined => {
  const n = posix.normalize(path.replace(/\\/g, '/'));
  if (n === '.' || n === './' || n === '') return '';
  if (n.startsWith('../') || n === '..' || n.startsWith('/')) return undefined;
  return n.replace(/\/$/, '');
};

/** Joins repository paths and normalises the result (undefined if it leaves the root). */
export const joinPath = (dir: string, rel: string): string | undefined =>
  rel.startsWith('/') ? undefined : normalizePath(dir ? `${dir}/${rel}` : rel);

/** A FileTree held in memory: tests, and snapshots fetched from GitHub. */
export class MemoryFileTree implements FileTree {
  private readonly files = new Map<string, Uint8Array>();
  /** Files kept out of the tree by the file limit: their size and the limit; reading one fails. */
  private readonly oversized = new Map<string, { size: number; limit: number }>();
  private readonly dirs = new Map<string, Set<string>>([['', new Set()]]);

  constructor(files: Record<string, string | Uint8Array> = {}) {
    for (const [path, content] of Object.entries(files)) this.set(path, content);
  }

  /** Adds or replaces a file, creating its directories. */
  set(path: string, content: string | Uint8Array): void {
    const p = normalizePath(path);
    if (p === undefined || p === '') throw new Error(`${path}: not a path inside the tree`);
    this.files.set(p, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    let child = p;
    for (let dir = posix.dirname(p); ; dir = posix.dirname(dir)) {
      const key = dir === '.' ? '' : dir;
      const entries = this.dirs.get(key) ?? new Set<string>();
      entries.add(posix.basename(child));
      this.dirs.set(key, entries);
      if (key === '') break;
      child = key;
    }
  }

  /** Records a file over the file limit without its bytes: it lists and exists, and reading it fails naming the limit. */
  setOversized(path: string, size: number, limit: number): void {
    this.set(path, new Uint8Array());
    this.oversized.set(normalizePath(path) as string, { size, limit });
  }

  async kind(path: string): Promise<'file' | 'dir' | undefined> {
    const p = normalizePath(path);
    if (p === undefined) return undefined;
    return this.files.has(p) ? 'file' : this.dirs.has(p) ? 'dir' : undefined;
  }

  async read(path: string): Promise<Uint8Array> {
    const p = normalizePath(path);
    const data = p === undefined ? undefined : this.files.get(p);
    if (!data) throw new Error(`${path}: no such file`);
    const big = this.oversized.get(p as string);
    if (big) throw fileTooLarge(p as string, big.size, big.limit);
    return data;
  }

  async list(path: string): Promise<string[]> {
    const p = normalizePath(path);
    const entries = p === undefined ? undefined : this.dirs.get(p);
    if (!entries) throw new Error(`${path}: no such directory`);
    return [...entries].sort();
  }
}

/**
 * A FileTree over a local directory (a checkout). Paths never leave `root`.
 * Reads are synchronous underneath: a render makes many small reads of a local disk, and a round trip
 * through the thread pool per stat cost more than the reads themselves (see BENCHMARKS.md).
 */
export class LocalFileTree implements FileTree {
  constructor(
    private readonly root: string,
    /** The largest file read. @default DEFAULT_INPUT_LIMITS.fileBytes */
    private readonly maxFileBytes: number = DEFAULT_INPUT_LIMITS.fileBytes,
  ) {}

  private abs(path: string): string | undefined {
    const p = normalizePath(path);
    return p === undefined ? undefined : join(this.root, p);
  }

  async kind(path: string): Promise<'file' | 'dir' | undefined> {
    const abs = this.abs(path);
    if (abs === undefined) return undefined;
    const s = statSync(abs, { throwIfNoEntry: false });
    return s?.isDirectory() ? 'dir' : s?.isFile() ? 'file' : undefined;
  }

  async read(path: string): Promise<Uint8Array> {
    const abs = this.abs(path);
    if (abs === undefined) throw new Error(`${path}: outside the repository`);
    const size = statSync(abs, { throwIfNoEntry: false })?.size ?? 0;
    if (size > this.maxFileBytes) throw fileTooLarge(normalizePath(path) as string, size, this.maxFileBytes);
    return readFileSync(abs);
  }

  async list(path: string): Promise<string[]> {
    const abs = this.abs(path);
    if (abs === undefined) throw new Error(`${path}: outside the repository`);
    return readdirSync(abs).filter((n) => n !== '.git').sort();
  }
}
