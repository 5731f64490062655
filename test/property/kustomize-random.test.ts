import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFileTree } from '../../lib/render/file-tree.js';
import { printYamlStream } from '../../lib/render/print-yaml.js';
import { renderPath } from '../../lib/render/render.js';

// Random compositions of the Kustomize features driftless supports, each written to a temporary directory and
// built twice: in-process (`driftless render` prints the same bytes) and by `kubectl kustomize`, the reference.
// The outputs must be byte-identical, or both builds must fail. Seeded, so a failing case can be replayed:
// KUSTOMIZE_PROPERTY_SEED=<seed> [KUSTOMIZE_PROPERTY_KEEP=1] npx vitest run test/property.
const SEED = Number(process.env.KUSTOMIZE_PROPERTY_SEED ?? 20261203);
const CASES = Number(process.env.KUSTOMIZE_PROPERTY_CASES ?? 100);
const HAS_KUBECTL = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const run = promisify(execFile);

/** mulberry32: a small seeded PRNG, enough to make the cases reproducible. */
const prng = (seed: number) => {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chance = (p: number): boolean => next() < p;
  return { int, pick, chance };
};
type Rng = ReturnType<typeof prng>;

// Scalars written unquoted into resources and patches: YAML 1.1 and 1.2 corner cases, and strings whose printing
// needs quoting, a literal block or folding.
const SCALARS = [
  '0755',
  '0o644',
  '08',
  '1e3',
  '1.50',
  '1_000',
  '0x1F',
  '0b101',
  '+12',
  '-0',
  '2024-01-01',
  '2024-01-01T10:00:00Z',
  '2024-02-30',
  '~',
  'null',
  '',
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'True',
  'false',
  '1:20',
  '.5',
  '1.2.3',
  'plain',
  '"quoted 0755"',
  "'single'",
  '"with: colon"',
  '"#hash"',
  '"- dash"',
  '"tab\\there"',
  '"line one\\nline two\\n"',
  '"trailing space \\nnext"',
  '"héllo ✓"',
  '"emoji 😀"',
  '"<<"',
  '"---"',
  '|\n    block one\n    block two',
  '"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore"',
  '"#Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore"',
  '"Lorem \\"ipsum\\" dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore"',
];
// No numeric keys: kyaml loses the quotes of a key it merges in, and the resource then has an int key JSON cannot hold.
const JSON_PATCH_VALUES = ['"0755"', '0755', 'yes', 'on', '~', '"x"', '2024-01-01', '1e3', '1.50', '{a: 1, b: [x, 2]}', '"a\\nb"'];
const KEYS = ['a', 'b10', 'b9', 'B', '_x', 'x-1', 'x.y', 'k01', 'k1', 'n', 'y', 'on'];
const IMAGES = ['nginx', 'busybox', 'registry.example.com:5000/team/api'];

interface Case {
  readonly name: string;
  readonly files: Readonly<Record<string, string>>;
}

const mapLines = (rng: Rng, indent: string, n: number): string => {
  const keys = [...new Set(Array.from({ length: n }, () => rng.pick(KEYS)))];
  return keys.map((k) => `${indent}${/^(n|y|on)$/.test(k) ? `"${k}"` : k}: ${scalar(rng)}`).join('\n');
};
// Block scalars need the indentation of their key; the pool writes them for a key at 2 spaces.
const scalar = (rng: Rng): string => rng.pick(SCALARS).replace(/\n {4}/g, '\n      ');

const deployment = (rng: Rng, name: string, image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
  annotations:
${mapLines(rng, '    ', 1 + rng.int(3))}
spec:
  replicas: ${rng.pick(['1', '2', '0b11', '03'])}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: main
        image: ${image}
        args: [${rng.pick(['--a', '"0755"', 'yes', '1e3'])}]
        env:
        - name: MODE
          value: ${rng.pick(['"0755"', '"yes"', 'plain', '"1:20"'])}
        ports:
        - containerPort: 8080
      volumes:
      - name: scripts
        configMap:
          name: scripts
          defaultMode: ${rng.pick(['0755', '0o644', '420', '0400'])}${rng.chance(0.3) ? '\n      nodeSelector:' : ''}
`;

const configMap = (rng: Rng, name: string): string => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}${rng.chance(0.3) ? '\n  annotations: null' : ''}
data:
${mapLines(rng, '  ', 2 + rng.int(5))}
`;

const service = (name: string): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${name}
  ports:
  - port: 80
    targetPort: 8080
`;

const INLINE_SCALARS = SCALARS.filter((x) => !x.startsWith('|'));

/** A random nested mapping (maps, sequences of scalars and of maps, empty collections) at `indent`. */
const nestedMap = (rng: Rng, indent: number, depth: number): string[] => {
  const pad = ' '.repeat(indent);
  const keys = [...new Set(Array.from({ length: 1 + rng.int(4) }, () => rng.pick(KEYS)))];
  const lines: string[] = [];
  for (const k of keys) {
    const key = /^(n|y|on)$/.test(k) ? `"${k}"` : k;
    const kind = depth > 2 ? 0 : rng.int(6);
    if (kind === 0 || kind === 5) lines.push(`${pad}${key}: ${rng.pick(INLINE_SCALARS)}`);
    else if (kind === 1) lines.push(`${pad}${key}:`, ...nestedMap(rng, indent + 2, depth + 1));
    else if (kind === 2) lines.push(`${pad}${key}:`, ...Array.from({ length: 1 + rng.int(3) }, () => `${pad}- ${rng.pick(INLINE_SCALARS)}`));
    else if (kind === 3) {
      lines.push(`${pad}${key}:`);
      for (let i = 0; i <= rng.int(2); i++) {
        const [first = '', ...rest] = nestedMap(rng, indent + 2, depth + 1);
        lines.push(`${pad}- ${first.trimStart()}`, ...rest);
      }
    } else lines.push(`${pad}${key}: ${rng.pick(['{}', '[]', '[a, 1, yes]', '{a: 1}'])}`);
  }
  return lines;
};

const widget = (rng: Rng): string => ['apiVersion: example.com/v1', 'kind: Widget', 'metadata:', '  name: gadget', 'spec:', ...nestedMap(rng, 2, 0), ''].join('\n');

/** One random kustomization (with a base, sometimes) and its files. */
const makeCase = (rng: Rng, i: number): Case => {
  const files: Record<string, string> = {};
  const app = rng.pick(['web', 'api', 'worker']);
  const image = rng.pick(IMAGES);
  files['base/deployment.yaml'] = deployment(rng, app, image);
  files['base/service.yaml'] = service(app);
  files['base/configmap.yaml'] = configMap(rng, 'scripts');
  const base = ['resources:', '- deployment.yaml', '- service.yaml', '- configmap.yaml'];
  if (rng.chance(0.5)) {
    files['base/widget.yaml'] = widget(rng);
    base.push('- widget.yaml');
  }
  if (rng.chance(0.3)) base.push('namePrefix: base-');
  files['base/kustomization.yaml'] = `${base.join('\n')}\n`;

  const k: string[] = ['resources:', '- ../base'];
  if (rng.chance(0.5)) k.push(`namePrefix: ${rng.pick(['dev-', 'p-'])}`);
  if (rng.chance(0.4)) k.push(`nameSuffix: ${rng.pick(['-v1', '-x'])}`);
  if (rng.chance(0.5)) k.push(`namespace: ${rng.pick(['team-a', 'prod'])}`);
  if (rng.chance(0.5)) k.push('labels:', '- pairs:', '    env: "dev"', `  includeSelectors: ${rng.chance(0.5)}`);
  if (rng.chance(0.4)) k.push('commonAnnotations:', '  owner: "team a"', '  note: "0755"');
  if (rng.chance(0.5)) k.push('images:', `- name: ${image}`, `  newTag: "${rng.pick(['1.25', '2', 'latest'])}"`);
  if (rng.chance(0.4)) k.push('replicas:', `- name: ${app}`, `  count: ${1 + rng.int(4)}`);
  if (rng.chance(0.5)) {
    k.push('configMapGenerator:', '- name: generated', '  literals:', `  - MODE="${rng.pick(['0755', 'yes', 'a b'])}"`);
    if (rng.chance(0.5)) k.push('  files:', '  - script.sh');
    files['overlay/script.sh'] = rng.chance(0.5) ? '#!/bin/sh\necho hi\n' : '#!/bin/sh\necho no newline';
  }
  const patches: string[] = [];
  if (rng.chance(0.5)) {
    files['overlay/smp.yaml'] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${app}
  annotations:
${mapLines(rng, '    ', 1 + rng.int(2))}
spec:
  template:
    spec:
      containers:
      - name: main
        resources:
          limits:
            cpu: ${rng.pick(['"1"', '500m', '1.5'])}${rng.chance(0.5) ? '\n      - name: sidecar\n        image: busybox' : ''}
`;
    patches.push('- path: smp.yaml', '  target:', '    kind: Deployment');
  }
  if (rng.chance(0.4)) {
    patches.push(
      '- target:',
      '    kind: ConfigMap',
      '    name: scripts',
      '  patch: |-',
      '    - op: add',
      '      path: /data/added',
      `      value: ${rng.pick(JSON_PATCH_VALUES)}`,
      '    - op: add',
      '      path: /metadata/annotations/patched',
      `      value: ${rng.pick(JSON_PATCH_VALUES)}`,
    );
  }
  if (rng.chance(0.4)) {
    // A strategic merge patch of the ConfigMap, by id or by target (Kustomize reads their metadata differently).
    const targeted = rng.chance(0.5);
    files['overlay/cm-patch.yaml'] = `apiVersion: v1
kind: ConfigMap
metadata:
  name: scripts
  annotations:
${mapLines(rng, '    ', 1 + rng.int(2))}
  labels:
    patched: ${rng.pick(['"yes"', 'yes', 'null', '~', '""', '0755'])}
data:
${mapLines(rng, '  ', 1 + rng.int(3))}
`;
    patches.push('- path: cm-patch.yaml', ...(targeted ? ['  target:', '    kind: ConfigMap'] : []));
  }
  if (patches.length) k.push('patches:', ...patches);
  files['overlay/kustomization.yaml'] = `${k.join('\n')}\n`;
  return { name: `case-${String(i).padStart(3, '0')}`, files };
};

describe.skipIf(!HAS_KUBECTL)(`random kustomizations render as kubectl kustomize renders them (seed ${SEED})`, () => {
  const rng = prng(SEED);
  const cases = Array.from({ length: CASES }, (_, i) => makeCase(rng, i));
  let root = '';
  const kubectlOut = new Map<string, { ok: true; out: string } | { ok: false; err: string }>();

  beforeAll(async () => {
    // Prepare: write every case, then build each with kubectl, eight at a time.
    root = mkdtempSync(join(tmpdir(), 'driftless-kustomize-property-'));
    for (const c of cases) {
      for (const [path, text] of Object.entries(c.files)) {
        mkdirSync(join(root, c.name, path, '..'), { recursive: true });
        writeFileSync(join(root, c.name, path), text);
      }
    }
    const queue = [...cases];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const dir = join(root, c.name, 'overlay');
          const result = await run('kubectl', ['kustomize', dir], { maxBuffer: 1 << 24 }).then(
            ({ stdout }) => ({ ok: true as const, out: stdout }),
            (err: { stderr?: string }) => ({ ok: false as const, err: err.stderr ?? String(err) }),
          );
          kubectlOut.set(c.name, result);
        }
      }),
    );
  }, 120_000);

  afterAll(() => {
    // KUSTOMIZE_PROPERTY_KEEP=1 keeps the cases on disk to replay one with kubectl.
    if (process.env.KUSTOMIZE_PROPERTY_KEEP) console.log(`kustomize property cases kept in ${root}`);
    else if (root) rmSync(root, { recursive: true, force: true });
  });

  it.each(cases.map((c) => c.name))('%s', async (name) => {
    // Act: build the case in-process
    const expected = kubectlOut.get(name);
    const got = await renderPath(new LocalFileTree(root), `${name}/overlay`).then(
      (r) => ({ ok: true as const, out: printYamlStream(r.objects) }),
      (err: Error) => ({ ok: false as const, err: err.message }),
    );
    // Assess: same bytes, or both fail
    if (!expected?.ok) {
      expect(got.ok, `kubectl failed (${expected?.err.trim()}) but driftless rendered`).toBe(false);
      return;
    }
    expect(got.ok ? got.out : `driftless failed: ${got.err}`).toBe(expected.out);
  });
});

describe.skipIf(HAS_KUBECTL)('random kustomizations against kubectl kustomize', () => {
  it.skip('skipped: kubectl is not on PATH, and the property test needs `kubectl kustomize` as the reference', () => {});
});
