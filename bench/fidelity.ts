/**
 * `npm run bench -- fidelity --root=DIR`: Kustomize fidelity on directories this project did not write (issue 16).
 *
 * DIR holds one work tree per public repository (`DIR/NAME/…`, extracted outside the project and never committed;
 * an optional `DIR/NAME/.fidelity-source` names it as `owner/name commit`). Every directory holding a
 * kustomization file is built by `kubectl kustomize` (the reference, Kustomize v5.5) and by driftless's in-process
 * `renderPath`, with the repository as the file tree, and classified:
 *
 * - byte-identical: `driftless render` would print exactly what kubectl prints;
 * - equal objects: the same objects (as a multiset, read as Kustomize reads YAML), printed differently;
 * - different: both build, the objects differ;
 * - kubectl-only refusal: kubectl refuses and driftless builds (a defect: driftless must refuse too);
 * - driftless-only refusal: driftless refuses what kubectl builds (a defect);
 * - both refuse: agreement (the usual case for remote resources: there is no network here).
 *
 * Options: `--jobs=N` kubectl processes at once (default 2), `--timeout=S` per kubectl run (default 60),
 * `--only=NAME[,NAME]` repositories, `--kubectl-cache=DIR` keeps kubectl's answers between runs (for a corpus that
 * does not change), `--examples=N` directories listed per cause in BENCHMARKS.md (default 3).
 * Without `--root` the suite is skipped (it needs a corpus this repository does not carry).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { LocalFileTree } from '../lib/render/file-tree.js';
import { printYamlStream } from '../lib/render/print-yaml.js';
import { renderPath } from '../lib/render/render.js';
import { GO_YAML_OPTIONS } from '../lib/render/yaml-documents.js';

const KUSTOMIZATION_FILES = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);
const SKIP_DIRS = new Set(['.git', 'node_modules', 'vendor', '.github']);

export type Verdict = 'byte-identical' | 'equal objects' | 'different' | 'kubectl-only refusal' | 'driftless-only refusal' | 'both refuse';
const VERDICTS: readonly Verdict[] = ['byte-identical', 'equal objects', 'different', 'kubectl-only refusal', 'driftless-only refusal', 'both refuse'];

interface Outcome {
  readonly ok: boolean;
  /** stdout when ok, the error text otherwise */
  readonly text: string;
}

export interface DirResult {
  readonly repo: string;
  readonly dir: string;
  readonly verdict: Verdict;
  /** What differs, or the error, in one line. */
  readonly detail: string;
  /** The detail with names, paths and numbers taken out: directories sharing a cause share it. */
  readonly cause: string;
}

interface Options {
  readonly root: string;
  readonly jobs: number;
  readonly timeoutMs: number;
  readonly only: ReadonlySet<string> | undefined;
  readonly cache: string | undefined;
  readonly examples: number;
}

const parseOptions = (argv: readonly string[]): Options | undefined => {
  const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const root = opt('root');
  if (!root) return undefined;
  const num = (name: string, dflt: number): number => {
    const v = opt(name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}=${v}: expected a positive integer`);
    return n;
  };
  const only = opt('only');
  return {
    root,
    jobs: num('jobs', 2),
    timeoutMs: num('timeout', 60) * 1000,
    only: only ? new Set(only.split(',')) : undefined,
    cache: opt('kubectl-cache'),
    examples: num('examples', 3),
  };
};

/** Every directory below `dir` holding a kustomization file, in path order; symbolic links are not followed. */
export const kustomizationDirs = (dir: string): string[] => {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => (e.isFile() || e.isSymbolicLink()) && KUSTOMIZATION_FILES.has(e.name))) out.push(d);
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (e.isDirectory() && !SKIP_DIRS.has(e.name)) walk(join(d, e.name));
    }
  };
  walk(dir);
  return out;
};

/** `kubectl kustomize DIR` with a timeout; the answer is cached by directory when a cache is given. */
const runKubectl = (dir: string, o: Options): Promise<Outcome> => {
  const cacheFile = o.cache ? join(o.cache, `${createHash('sha256').update(dir).digest('hex').slice(0, 24)}.json`) : undefined;
  if (cacheFile && existsSync(cacheFile)) return Promise.resolve(JSON.parse(readFileSync(cacheFile, 'utf8')) as Outcome);
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['kustomize', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const r: Outcome =
        code === 0 && !timedOut
          ? { ok: true, text: Buffer.concat(out).toString('utf8') }
          : { ok: false, text: timedOut ? `kubectl timed out after ${o.timeoutMs / 1000} s` : Buffer.concat(err).toString('utf8').trim() || `exit ${String(code)}` };
      if (cacheFile && !timedOut) writeFileSync(cacheFile, JSON.stringify(r));
      resolve(r);
    });
  });
};

/** driftless's in-process render, printed as `driftless render` prints it. */
const runDriftless = async (repoDir: string, dir: string): Promise<Outcome & { objects?: unknown[] }> => {
  try {
    const result = await renderPath(new LocalFileTree(repoDir), relative(repoDir, dir) || '.');
    return { ok: true, text: printYamlStream(result.objects), objects: JSON.parse(JSON.stringify(result.objects)) as unknown[] };
  } catch (err) {
    return { ok: false, text: err instanceof Error ? err.message : String(err) };
  }
};

/** kubectl's output read as Kustomize reads YAML (go-yaml), as the conformance test reads it. */
const parseStream = (text: string): unknown[] =>
  parseAllDocuments(text, GO_YAML_OPTIONS)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null && d !== undefined);

/** JSON with sorted keys: equal values give equal strings. */
const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
};

const idOf = (v: unknown): string => {
  const o = (v ?? {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
  return `${String(o.kind)} ${o.metadata?.namespace ? `${String(o.metadata.namespace)}/` : ''}${String(o.metadata?.name)}`;
};

/** The first path at which two values differ, and how. */
const firstDifference = (a: unknown, b: unknown, path: string): string | undefined => {
  if (canonical(a) === canonical(b)) return undefined;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i >= a.length) return `${path}[${i}] only in kubectl's`;
      if (i >= b.length) return `${path}[${i}] only in driftless's`;
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
      if (!(k in x)) return `${path}.${k} only in kubectl's (${short(y[k])})`;
      if (!(k in y)) return `${path}.${k} only in driftless's (${short(x[k])})`;
      const d = firstDifference(x[k], y[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path}: driftless ${short(a)}, kubectl ${short(b)}`;
};

const short = (v: unknown): string => {
  const s = canonical(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Names, paths, numbers and quoted values out of a message: what is left is its cause. */
const causeOf = (text: string): string =>
  text
    .replace(/\/[^\s:'"]+/g, 'PATH')
    .replace(/"[^"]*"/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\([^)]*\)$/, '(…)')
    .replace(/\b[0-9a-f]{7,}\b/g, 'HASH')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ')
    .slice(0, 160);

/** A path with indices and object names taken out, for grouping: `Deployment .spec.template…`. */
const pathCause = (d: string): string => d.replace(/\[\d+\]/g, '[]').replace(/ \(.*$|: driftless .*$/, '');

/** The first line where two texts differ. */
const firstLineDiff = (ours: string, theirs: string): string => {
  const a = ours.split('\n');
  const b = theirs.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: driftless ${JSON.stringify(a[i]?.slice(0, 80))}, kubectl ${JSON.stringify(b[i]?.slice(0, 80))}`;
  }
  return 'identical';
};

/**
 * An error's first line: kubectl's `# Warning:` lines are skipped and its klog wrapper (`E1204 … err="…"`, or
 * `err=<` with the message on the lines below) unwrapped.
 */
const firstLine = (text: string): string => {
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('# Warning'));
  const head = lines[0] ?? text;
  const inline = head.match(/^E\d{4} .*? err="(.*)"$/);
  const msg = inline
    ? (inline[1] as string).replace(/\\"/g, '"')
    : /^E\d{4} .*err=<$/.test(head)
      ? lines
          .slice(1)
          .filter((l) => l.trim() !== '>')
          .map((l) => l.trim())
          .join(' ')
      : head;
  return msg.replace(/^Error: /, '').slice(0, 300);
};

/** Why kubectl refused, in a few words, for the directories both refuse (its whole error, deepest cause first). */
const REFUSALS: readonly (readonly [RegExp, string])[] = [
  [/no such host|dial tcp|failed to run '\S*git |exec: "git"|remote \w+ (are|is) not supported|cannot read https?:/, 'a remote resource (no network here)'],
  [/is not in or below/, 'a file outside the kustomization root (load restrictions)'],
  [/must specify --enable-helm/, 'helmCharts (kubectl needs --enable-helm)'],
  [/external plugins disabled|unable to load external plugin/, 'an external (exec or Go) plugin'],
  [/no such file or directory|must build at directory/, 'a file or directory it names is missing'],
  [/no resource matches strategic merge patch|no matches for Id/, 'a patch whose target is missing'],
  [/nothing selected by|fieldPath .* is missing/, 'a replacement whose source is missing'],
  [/is empty/, 'an empty kustomization file'],
];
const refusalCause = (kubectlError: string): string => REFUSALS.find(([re]) => re.test(kubectlError))?.[1] ?? causeOf(firstLine(kubectlError));

/** Classifies one directory from both answers. */
export const classify = (ours: Outcome & { objects?: unknown[] }, theirs: Outcome): Pick<DirResult, 'verdict' | 'detail' | 'cause'> => {
  if (!theirs.ok && !ours.ok) {
    // A refusal for another reason may hide a defect behind the one kubectl found first: say so.
    const k = refusalCause(theirs.text);
    const d = refusalCause(ours.text);
    return { verdict: 'both refuse', detail: `kubectl: ${firstLine(theirs.text)}; driftless: ${firstLine(ours.text)}`, cause: k === d ? k : `${k} (driftless: ${d})` };
  }
  if (!theirs.ok) return { verdict: 'kubectl-only refusal', detail: `kubectl: ${firstLine(theirs.text)}`, cause: `kubectl: ${causeOf(firstLine(theirs.text))}` };
  if (!ours.ok) return { verdict: 'driftless-only refusal', detail: firstLine(ours.text), cause: causeOf(firstLine(ours.text)) };
  if (ours.text === theirs.text) return { verdict: 'byte-identical', detail: '', cause: '' };
  let expected: unknown[];
  try {
    expected = parseStream(theirs.text);
  } catch (err) {
    return { verdict: 'different', detail: `kubectl's output does not parse: ${String(err)}`, cause: 'unparsable kubectl output' };
  }
  const got = ours.objects ?? [];
  const count = (xs: readonly unknown[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(canonical(x), (m.get(canonical(x)) ?? 0) + 1);
    return m;
  };
  const a = count(got);
  const b = count(expected);
  const same = a.size === b.size && [...a].every(([k, n]) => b.get(k) === n);
  if (same) {
    const d = firstLineDiff(ours.text, theirs.text);
    return { verdict: 'equal objects', detail: d, cause: `printed: ${causeOf(d.replace(/^line \d+: /, ''))}` };
  }
  // Pair the first object that is not matched by one with the same id on the other side.
  const unmatchedOurs = got.filter((x) => !b.has(canonical(x)));
  const unmatchedTheirs = expected.filter((x) => !a.has(canonical(x)));
  for (const x of unmatchedOurs) {
    const y = unmatchedTheirs.find((t) => idOf(t) === idOf(x));
    if (y) {
      const d = firstDifference(x, y, '') ?? 'differs';
      const kind = idOf(x).split(' ')[0];
      return { verdict: 'different', detail: `${idOf(x)}: ${d}`, cause: `${kind} ${pathCause(d)}` };
    }
  }
  const extra = unmatchedOurs[0];
  const missing = unmatchedTheirs[0];
  const detail = [
    missing ? `kubectl's ${idOf(missing)} not built (${unmatchedTheirs.length} such)` : '',
    extra ? `driftless's ${idOf(extra)} not in kubectl's (${unmatchedOurs.length} such)` : '',
  ]
    .filter(Boolean)
    .join('; ');
  return {
    verdict: 'different',
    detail: detail || 'the same objects in different numbers',
    cause: missing && extra ? 'objects with other names' : missing ? 'objects missing' : extra ? 'extra objects' : 'multiplicity',
  };
};

const sourceOf = (repoDir: string): string => {
  const f = join(repoDir, '.fidelity-source');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : 'source not recorded';
};

/** Runs `work` over `items` with at most `n` at once, in order of results. */
const pool = async <T, R>(items: readonly T[], n: number, work: (t: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T);
      }
    }),
  );
  return out;
};

const pct = (n: number, d: number): string => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)}%`);

/** The suite: undefined (skipped) without `--root`; otherwise the Markdown section for BENCHMARKS.md. */
export const benchFidelity = async (argv: readonly string[] = process.argv.slice(2)): Promise<string | undefined> => {
  const o = parseOptions(argv);
  if (!o) {
    console.error('fidelity: skipped (needs --root=DIR, a directory of public repositories; see bench/fidelity.ts)');
    return undefined;
  }
  if (o.cache) mkdirSync(o.cache, { recursive: true });
  const repos = readdirSync(o.root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && (!o.only || o.only.has(e.name)))
    .map((e) => e.name)
    .sort();
  const results: DirResult[] = [];
  const sources = new Map<string, string>();
  for (const repo of repos) {
    const repoDir = join(o.root, repo);
    sources.set(repo, sourceOf(repoDir));
    const dirs = kustomizationDirs(repoDir);
    process.stderr.write(`fidelity ${repo}: ${dirs.length} directories\n`);
    const rs = await pool(dirs, o.jobs, async (dir) => {
      const theirsP = runKubectl(dir, o);
      const ours = await runDriftless(repoDir, dir);
      const r: DirResult = { repo, dir: relative(repoDir, dir) || '.', ...classify(ours, await theirsP) };
      return r;
    });
    results.push(...rs);
  }
  return report(results, repos, sources, o);
};

const report = (results: readonly DirResult[], repos: readonly string[], sources: ReadonlyMap<string, string>, o: Options): string => {
  const tally = (rs: readonly DirResult[]): Record<Verdict, number> => {
    const t = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
    for (const r of rs) t[r.verdict]++;
    return t;
  };
  const row = (name: string, source: string, rs: readonly DirResult[]): string => {
    const t = tally(rs);
    const objects = t['byte-identical'] + t['equal objects'] + t['both refuse'];
    const bytes = t['byte-identical'] + t['both refuse'];
    return `| ${name} | ${source} | ${rs.length} | ${VERDICTS.map((v) => t[v]).join(' | ')} | ${pct(objects, rs.length)} | ${pct(bytes, rs.length)} |`;
  };
  const bad = results.filter((r) => r.verdict !== 'byte-identical' && r.verdict !== 'both refuse');
  const groups = new Map<string, DirResult[]>();
  for (const r of bad) {
    const key = `${r.verdict}: ${r.cause}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const sorted = [...groups].sort((a, b) => b[1].length - a[1].length || (a[0] < b[0] ? -1 : 1));
  for (const [key, rs] of sorted) {
    console.error(`\n## ${rs.length} × ${key}`);
    for (const r of rs) console.error(`  ${r.repo}/${r.dir}: ${r.detail}`);
  }
  const refused = new Map<string, number>();
  for (const r of results) if (r.verdict === 'both refuse') refused.set(r.cause, (refused.get(r.cause) ?? 0) + 1);
  const refusedRows = [...refused].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const t = tally(results);
  const built = results.length - t['both refuse'] - t['kubectl-only refusal'];
  const esc = (s: string): string => s.replace(/\|/g, '\\|').replace(/`/g, "'");
  return [
    `Every directory holding a kustomization file in ${repos.length} public repositories (extracted outside the project,`,
    'never committed), built by `kubectl kustomize` (Kustomize v5.5, no network: remote resources fail there) and by',
    "driftless's in-process `renderPath` with the repository as the file tree. Objects agree: byte-identical, equal",
    'objects, or both refuse. Bytes agree: byte-identical or both refuse. Goals (issue 16): ≥ 99% objects, ≥ 95% bytes.',
    '',
    `| repository | source (owner/name commit) | dirs | ${VERDICTS.join(' | ')} | objects agree | bytes agree |`,
    `|---|---|---:|${VERDICTS.map(() => '---:').join('|')}|---:|---:|`,
    ...repos.map((r) =>
      row(
        r,
        sources.get(r) ?? '',
        results.filter((x) => x.repo === r),
      ),
    ),
    row('**total**', '', results),
    '',
    `Of the ${built} directories kubectl builds, driftless builds the same objects in ${t['byte-identical'] + t['equal objects']}`,
    `(${pct(t['byte-identical'] + t['equal objects'], built)}) and prints them byte for byte in ${t['byte-identical']} (${pct(t['byte-identical'], built)}).`,
    '',
    `**Both refuse** (${t['both refuse']} directories), by kubectl's reason: ${refusedRows
      .slice(0, 8)
      .map(([c, n]) => `${esc(c)} (${n})`)
      .join('; ')}${refusedRows.length > 8 ? `; ${refusedRows.length - 8} other reasons` : ''}.`,
    '',
    sorted.length ? '**Mismatches by cause** (directories; first examples, with the first difference or error):' : '**No mismatches.**',
    '',
    ...(sorted.length ? ['| dirs | verdict: cause | examples |', '|---:|---|---|'] : []),
    ...sorted.map(
      ([key, rs]) =>
        `| ${rs.length} | ${esc(key)} | ${rs
          .slice(0, o.examples)
          .map((r) => `${r.repo}/${r.dir}: ${esc(r.detail.slice(0, 160))}`)
          .join('<br>')} |`,
    ),
  ].join('\n');
};
