import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// STYLE.md §2.2: arrows run one way, so no two folders import each other, however indirectly. A folder is a
// pipeline stage: lib/<stage>, lib/targets/<kind>, functions/<fn>, infra. ESLint (eslint.config.js) checks the
// layer rules file by file; this checks the folder graph as a whole.

const ROOT = resolve(import.meta.dirname, '../../..');
const SCANNED = ['lib', 'functions', 'infra'];

/** The folder a file belongs to, as named in the layout of STYLE.md §2.1. */
const folderOf = (file: string): string => {
  const parts = file.split('/');
  if (parts[0] === 'lib' && parts[1] === 'targets' && parts.length > 3) return parts.slice(0, 3).join('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : (parts[0] ?? file);
};

const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );

/** Folder → folders it imports (relative imports, type-only ones included: they are arrows too). */
export const folderGraph = (files: ReadonlyMap<string, string>): Map<string, Set<string>> => {
  const graph = new Map<string, Set<string>>();
  for (const [file, text] of files) {
    const from = folderOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const to = folderOf(relative(ROOT, resolve(ROOT, dirname(file), ref.fileName)));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
};

/** Strongly connected components with more than one folder (Tarjan). */
export const folderCycles = (graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] => {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
};

describe('folder cycles', () => {
  it('finds a cycle through three folders', () => {
    // GIVEN reconcile → drift → targets/cloudformation → reconcile (the cycle issue #13 measured)
    const files = new Map([
      ['lib/reconcile/a.ts', "import { b } from '../drift/b.js';"],
      ['lib/drift/b.ts', "import type { C } from '../targets/cloudformation/c.js';"],
      ['lib/targets/cloudformation/c.ts', "export { a } from '../../reconcile/a.js';"],
      ['lib/core/d.ts', 'export const d = 1;'],
    ]);
    // WHEN / THEN
    expect(folderCycles(folderGraph(files))).toEqual([['lib/drift', 'lib/reconcile', 'lib/targets/cloudformation']]);
  });

  it('has no folder cycle in lib/, functions/ and infra/', () => {
    // GIVEN every source file
    const files = new Map(SCANNED.flatMap(sources).map((f) => [f, readFileSync(join(ROOT, f), 'utf8')] as const));
    expect(files.size).toBeGreaterThan(100);
    // WHEN / THEN
    expect(folderCycles(folderGraph(files))).toEqual([]);
  });
});
