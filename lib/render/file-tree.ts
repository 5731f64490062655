import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { RenderError } from '../core/errors.js';
import { DEFAULT_INPUT_LIMITS, fileTooLarge } from './limits.js';

/** A repository's files at one commit, read by repository-relative POSIX paths. */
export interface FileTree {
  /** 'file', 'dir', or undefined when nothing is at `path`. */
  kind(path: string): Promise<'file' | 'dir' | undefined>;
  /** The bytes of a file; rejects when it is missing. */
  read(path: string): Promise<Uint8Array>;
  /** Names of a directory's entries, sorted. */
  list(path: string): Promise<string[]>;
  /**
   * Where `path` really is once every symbolic link on the way is followed, as a repository path; the path
   * itself when nothing there is a link (or nothing is there); undefined when it leaves the repository.
   * `kind`, `read` and `list` refuse a path whose links leave the repository; Kustomize's load restriction
   * (files of a kustomization in or below its directory) compares these real paths.
   */
  realPath(path: string): string | undefined;
}

/** The error for a path whose symbolic links lead out of the repository (Kustomize's wording). */
export const outsideRepository = (path: string): RenderError =>
  new RenderError(path, `security; file '${path}' is not in or below the repository root (a symbolic link leads out of it)`);

/** Whether repository path `path` is `dir` or below it ('' is the root). */
export const isInOrBelow = (path: string, dir: string): boolean => dir === '' || path === dir || path.startsWith(`${dir}/`);

/** Links followed before a path is refused as a loop (Linux's limit). */
const MAX_LINKS = 40;

/** Normalises a repository path: POSIX separators, no `.` segments, '' for the root; undefined if it escapes the root. */
export const normalizePath = (path: string): string | undefined => {
  const n = posix.normalize(path.replace(/\\/g, '/'));
  if (n === '.' || n === './' || n === '') return '';
  if (n.startsWith('../') || n === '..' || n.startsWith('/')) return undefined;
  return n.replace(/\/$/, '');
};

/** Joins repository paths and normalises the result (undefined if it leaves the root). */
export const joinPath = (dir: string, rel: string): string | undefined => (rel.startsWith('/') ? undefined : normalizePath(dir ? `${dir}/${rel}` : rel));

/** A FileTree held in memory: tests, and snapshots fetched from GitHub. */
export class MemoryFileTree implements FileTree {
  private readonly files = new Map<string, Uint8Array>();
  /** Files kept out of the tree by the file limit: their size and the limit; reading one fails. */
  private readonly oversized = new Map<string, { size: number; limit: number }>();
  private readonly dirs = new Map<string, Set<string>>([['', new Set()]]);
  /** Symbolic links: path → target as stored (relative to the link's directory, or absolute). */
  private readonly links = new Map<string, string>();

  constructor(files: Record<string, string | Uint8Array> = {}) {
    for (const [path, content] of Object.entries(files)) this.set(path, content);
  }

  /** Adds or replaces a file, creating its directories. */
  set(path: string, content: string | Uint8Array): void {
    const p = normalizePath(path);
    if (p === undefined || p === '') throw new Error(`${path}: not a path inside the tree`);
    this.files.set(p, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    this.addToParents(p);
  }

  /** Adds a symbolic link (a tarball's symlink entry): followed on access, refused when it leads out of the tree. */
  setLink(path: string, target: string): void {
    const p = normalizePath(path);
    if (p === undefined || p === '') throw new Error(`${path}: not a path inside the tree`);
    this.links.set(p, target);
    this.addToParents(p);
  }

  private addToParents(p: string): void {
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

  realPath(path: string): string | undefined {
    const p = normalizePath(path);
    if (p === undefined) return undefined;
    if (!this.links.size) return p;
    let rest = p ? p.split('/') : [];
    const out: string[] = [];
    let hops = 0;
    while (rest.length) {
      const c = rest.shift() as string;
      if (c === '' || c === '.') continue;
      if (c === '..') {
        if (!out.length) return undefined;
        out.pop();
        continue;
      }
      out.push(c);
      const link = this.links.get(out.join('/'));
      if (link === undefined) continue;
      if (++hops > MAX_LINKS) throw new RenderError(p, 'too many levels of symbolic links');
      if (link.startsWith('/')) return undefined;
      out.pop();
      rest = [...link.split('/'), ...rest];
    }
    return out.join('/');
  }

  /** The real path of `path`, refusing links out of the tree; undefined for a path that is lexically outside. */
  private real(path: string): string | undefined {
    if (normalizePath(path) === undefined) return undefined;
    const r = this.realPath(path);
    if (r === undefined) throw outsideRepository(normalizePath(path) as string);
    return r;
  }

  async kind(path: string): Promise<'file' | 'dir' | undefined> {
    const p = this.real(path);
    if (p === undefined) return undefined;
    return this.files.has(p) ? 'file' : this.dirs.has(p) && !this.links.has(p) ? 'dir' : undefined;
  }

  async read(path: string): Promise<Uint8Array> {
    const p = this.real(path);
    const data = p === undefined ? undefined : this.files.get(p);
    if (!data) throw new Error(`${path}: no such file`);
    const big = this.oversized.get(p as string);
    if (big) throw fileTooLarge(p as string, big.size, big.limit);
    return data;
  }

  async list(path: string): Promise<string[]> {
    const p = this.real(path);
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

  private realRoot: string | undefined;

  realPath(path: string): string | undefined {
    const p = normalizePath(path);
    if (p === undefined) return undefined;
    this.realRoot ??= realpathSync.native(this.root);
    // What is missing has no link to follow: resolve its deepest existing directory and keep the rest as written.
    let dir = join(this.root, p);
    const rest: string[] = [];
    let real: string | undefined;
    for (;;) {
      try {
        real = join(realpathSync.native(dir), ...rest);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new RenderError(p, 'too many levels of symbolic links');
        if (dir === this.root || dirname(dir) === dir) return p;
        rest.unshift(basename(dir));
        dir = dirname(dir);
      }
    }
    const rel = relative(this.realRoot, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
    return rel.split(sep).join('/');
  }

  /** The absolute path to read for `path` (its links followed); undefined when it is lexically outside the root. */
  private abs(path: string): string | undefined {
    const p = normalizePath(path);
    if (p === undefined) return undefined;
    const real = this.realPath(p);
    if (real === undefined) throw outsideRepository(p);
    return join(this.root, real);
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
    return readdirSync(abs)
      .filter((n) => n !== '.git')
      .sort();
  }
}
