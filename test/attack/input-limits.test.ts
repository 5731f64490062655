/**
 * Attack suite, input limits: one push carries a 50 MB manifest, a YAML alias bomb, a target of 10,001
 * objects and a 2 MiB object, each in its own target, next to a target that is fine. Each oversized target
 * fails alone through the failure path (a failed record naming the subject and the limit, a failure status,
 * nothing applied), and the fine target of the same push syncs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

const cm = (name: string, value = 'v') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: "${value}"\n`;
const BOMB = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n  h: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n`;
const MANY = JSON.stringify({
  apiVersion: 'v1',
  kind: 'List',
  items: Array.from({ length: 10_001 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` } })),
});

const CASES = [
  {
    target: 'big-file',
    files: { 'big.yaml': cm('big', 'x'.repeat(50 * 1024 * 1024)) },
    says: 'deploy/big-file/big.yaml: file is 50 MiB, over the limit of 8 MiB for one file (DRIFTLESS_MAX_FILE_BYTES)',
  },
  { target: 'alias-bomb', files: { 'bomb.yaml': BOMB }, says: 'deploy/alias-bomb/bomb.yaml:1: YAML alias expansion exceeds 1000 aliases' },
  { target: 'too-many', files: { 'many.json': MANY }, says: 'deploy/too-many: renders 10001 objects, over the limit of 10000 per target (DRIFTLESS_MAX_OBJECTS)' },
  {
    target: 'big-object',
    files: { 'obj.yaml': cm('huge', 'y'.repeat(2 * 1024 * 1024)) },
    says: 'deploy/big-object: ConfigMap/huge is 2 MiB as JSON, over the limit of 1.5 MiB for one object (DRIFTLESS_MAX_OBJECT_BYTES)',
  },
] as const;
const ALL = [...CASES.map((c) => ({ target: c.target, files: c.files })), { target: 'fine', files: { 'cm.yaml': cm('fine') } }];
const config = `version: 1\ntargets:\n${ALL.map((c) => `  - name: ${c.target}\n    path: deploy/${c.target}\n    cluster: dev\n    namespace: shop-a\n`).join('')}`;

describe('attack: inputs over the limits', () => {
  let p: Pipeline;
  let head: string;
  const lastRecord = async (target: string) => (await p.ledger.history({ targetId: `${REPO}/${target}`, limit: 1 })).items[0];

  beforeAll(async () => {
    p = await startPipeline();
    p.dev.createNamespace('shop-a');
    head = p.commit({ 'driftless.yaml': config, ...Object.fromEntries(ALL.flatMap((c) => Object.entries(c.files).map(([f, t]) => [`deploy/${c.target}/${f}`, t]))) });
    p.dev.resetLog();
    const res = await p.deliver('push', pushPayload('0'.repeat(40), head));
    expect(res.status).toBe(202);
  }, 300_000);
  afterAll(() => p?.stop());

  it.each(CASES.map((c) => [c.target, c.says]))('fails %s alone, naming the subject and the limit', async (target, says) => {
    const rec = await lastRecord(target);
    expect(rec?.result).toBe('failed');
    expect(rec?.error?.message).toContain(says);
    expect(p.github.statuses.filter((s) => s.sha === head && s.context === `driftless/${target}`).pop()?.state).toBe('failure');
    expect((await p.ledger.getState(`${REPO}/${target}`))?.inventory ?? []).toEqual([]);
  });

  it('applies nothing of the oversized targets, and syncs the other target of the same push', async () => {
    expect((await lastRecord('fine'))?.result).toBe('succeeded');
    expect(p.dev.get('v1', 'ConfigMap', 'shop-a', 'fine')).toBeDefined();
    for (const name of ['big', 'bomb', 'cm-0', 'huge']) expect(p.dev.get('v1', 'ConfigMap', 'shop-a', name), name).toBeUndefined();
    const writes = p.dev.requests.filter((r) => !r.dryRun && ['apply', 'create', 'update', 'patch'].includes(r.verb)).map((r) => r.path);
    expect(writes.every((w) => w.endsWith('/configmaps/fine'))).toBe(true);
    expect(p.errors).toEqual([]);
  });
});
