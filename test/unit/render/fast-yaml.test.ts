import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastParseDocuments } from '../../../lib/render/fast-yaml.js';
import { emptyNullFields, isQuotedScalar, parseManifests, parseManifestsWithYamlLibrary, plainScalarText, resolvePlainScalar } from '../../../lib/render/yaml-documents.js';

// The fast reader must give exactly what the yaml library gives (objects, key order, scalar styles, plain texts,
// empty fields, error lines), or decline. Compared on every YAML file of the fixtures, on tricky cases, and on
// random documents.

const HOOKS = { resolve: resolvePlainScalar, quoted: () => undefined, plainText: () => undefined };
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.(ya?ml|json)$/.test(name) ? [p] : [];
  });

/** What a read gives: the objects, or the error's message. */
const read = (parse: typeof parseManifests, text: string, annotationsAsText: boolean): { objects: unknown[] } | { error: string } => {
  try {
    return { objects: parse(text, 'f.yaml', { annotationsAsText }) };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

/** Every map of a value with the styles recorded on it, as comparable data. */
const styles = (v: unknown, path = '', out: string[] = []): string[] => {
  if (Array.isArray(v)) v.forEach((x, i) => styles(x, `${path}[${i}]`, out));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (isQuotedScalar(v, k)) out.push(`${path}.${k} quoted`);
      const text = plainScalarText(v, k);
      if (text !== undefined) out.push(`${path}.${k} plain ${text}`);
      styles(x, `${path}.${k}`, out);
    }
  }
  return out;
};

/** Whether the fast reader took the text, and then that both reads agree in everything recorded. */
const expectSame = (text: string, what: string): boolean => {
  const fast = fastParseDocuments(text, HOOKS) !== undefined;
  if (!fast) return false;
  for (const annotationsAsText of [false, true]) {
    const slow = read(parseManifestsWithYamlLibrary, text, annotationsAsText);
    const got = read(parseManifests, text, annotationsAsText);
    expect(JSON.stringify(got), what).toBe(JSON.stringify(slow));
    if ('objects' in got && 'objects' in slow) {
      expect(styles(got.objects), what).toEqual(styles(slow.objects));
      expect(
        got.objects.map((o) => emptyNullFields(o as object)),
        what,
      ).toEqual(slow.objects.map((o) => emptyNullFields(o as object)));
    }
  }
  return fast;
};

describe('fastParseDocuments', () => {
  it('reads every fixture it takes exactly as the yaml library does (and takes most of them)', () => {
    const files = yamlFiles(FIXTURES);
    let taken = 0;
    for (const f of files) if (expectSame(readFileSync(f, 'utf8'), f)) taken++;
    // Not vacuous: most manifests are plain block YAML.
    expect(taken).toBeGreaterThan(files.length / 3);
  });

  const cases: [string, string][] = [
    ['numbers and signs', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  a: -1\n  b: +2\n  c: 0755\n  d: 1_000\n  e: 0x1F\n  f: 1e3\n  g: -foo\n  h: .5\n'],
    [
      'nulls, booleans and empties',
      'apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  annotations:\n    a: ~\n    b:\n    c: # note\n    d: null\n    e: "x"\n    f: on\n    g: 0755\nspec:\n  x: true\n  y: True\n  z: yes\n  w: []\n  v: {}\n',
    ],
    ['timestamps', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: 2024-01-02\n  b: 2024-1-2 3:04:05\n  c: 2024-13-01\n'],
    ['quoted scalars', `apiVersion: v1\nkind: X\nmetadata:\n  name: 'it''s'\nspec:\n  a: "tab\\there \\"q\\" \\u00e9 \\x41 \\/"\n  b: 'x' # c\n  c: "9090"\n  d: ''\n`],
    [
      'sequences of every form',
      'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a:\n  - 1\n  - x\n  -\n  - # c\n  b:\n    - name: n\n      args:\n      - --flag=1\n      - -v\n    -   name: m\n        value: "v"\n  c: [] # none\n',
    ],
    ['comments and blank lines', '# head\napiVersion: v1 # the version\n\nkind: X\nmetadata:\n    # indented comment\n  name: a#b\n  labels:\n\n    app: web # c\n'],
    [
      'several documents and a List',
      '---\napiVersion: v1\nkind: A\nmetadata:\n  name: a\n---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: B\n  metadata:\n    name: b\n    x:\n',
    ],
    ['a value with colons', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  image: nginx:1.25\n  url: http://x.y/z?a=b\n'],
    ['an indented root', '  apiVersion: v1\n  kind: X\n  metadata:\n    name: a\n'],
    ['infinities', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: .inf\n'],
    [
      'literal block scalars',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    a: |\n      x\n      # not a comment\n\n        deeper\n\ndata:\n  s: |-\n    #!/bin/sh\n    echo "hi: there"\n  t: | # header comment\n      two\n    \n  list:\n  - |\n    in a list\n  - x\n',
    ],
    [
      'a literal block scalar before the next document',
      'apiVersion: v1\nkind: A\nmetadata:\n  name: a\ndata:\n  s: |\n    x\n\n---\napiVersion: v1\nkind: B\nmetadata:\n  name: b\n',
    ],
    [
      'flow sequences of scalars',
      `apiVersion: v1\nkind: Role\nmetadata:\n  name: a\nrules:\n- verbs: ["get", "list",'watch']\n  resources: [ pods , 'a''b' ] # c\n  nums: [1, -1x, 0755, true, ~, "x\\"y"]\n  none: []\n`,
    ],
    [
      'single-quoted scalars over lines',
      "apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  description: 'APIVersion defines the versioned schema of this representation\n    of an object. It''s here:   \n\n    more info: https://x  '\n  b: '\n    starts on the next line' # c\n  c:\n  - 'one\n    two'\n  d: 'x\n\n\n    y'\n",
    ],
    [
      'plain scalars over lines',
      'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  description: GitRepository is the Schema for the\n    gitrepositories API.\n\n    A second paragraph, 1\n      deeper line\n  n: 1\n    2\n  l:\n  - one\n    two\n',
    ],
    [
      'double-quoted scalars over lines',
      'apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n  _example: "####\\n#  x  #\\n#\n    \\   EXAMPLE    #\\n\n\n    end\\\n    joined \\"q\\" \\\\\n    last  " # c\n',
    ],
    [
      'flow mappings and nested flow collections',
      'apiVersion: v1\nkind: X\nmetadata: {name: a, labels: {app: web, tier: \'1\'}}\nspec:\n  selector: {matchLabels: {app: b}} # c\n  a: [[b], {c: 0755, d: "x", e: [1, ~]}]\n  r: {limits: {cpu: 100m, memory: 1Gi}, requests: {}}\n',
    ],
    ['a missing kind', '\n\napiVersion: v1\nmetadata:\n  name: a\n'],
    // Declined (the yaml library reads or refuses them):
    ['a document that is not a mapping', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\n---\n- a\n'],
    ['duplicate keys', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  name: b\n'],
    ['bad indentation', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\n   x: b\n'],
    ['a plain scalar continued after a comment', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: one\n    # c\n    two\n'],
    ['a plain scalar continued by a pair', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: one\n    two: three\n'],
    ['a folded block scalar', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n  a: >\n    x\n    y\n'],
    ['a kept block scalar', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n  a: |+\n    x\n\n'],
    ['a block scalar at the end without a line break', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n  a: |\n    x'],
    ['a block scalar with an indentation indicator', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n  a: |2\n     x\n'],
    ['anchors and merge keys', 'apiVersion: v1\nkind: X\nmetadata: &m\n  name: a\nspec:\n  <<: *m\n'],
    ['a single-quoted scalar continued at its key column', "apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  d: 'x\n  y'\n"],
    ['a single-quoted scalar with text after it', "apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  d: 'x\n    y' z\n"],
    ['a single-quoted scalar never closed', "apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  d: 'x\n    y\n"],
    ['a flow mapping without a value', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec: {a}\n'],
    ['a flow mapping pair without a space', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec: {a:b}\n'],
    ['a flow mapping with an empty value', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec: {a: , b: c}\n'],
    ['a flow mapping with a quoted key', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec: {"a": b}\n'],
    ['a flow mapping with a trailing comma', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec: {a: b,}\n'],
    ['a flow mapping over lines', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec: {a: b,\n  c: d}\n'],
    ['annotations as a flow mapping', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  annotations: {a: 0755}\n'],
    ['a flow sequence with a pair', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: [b: c]\n'],
    ['a flow sequence with a trailing comma', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: [b, ]\n'],
    ['a flow sequence over lines', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a: [b,\n    c]\n'],
    ['numeric and boolean keys', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n  1: a\n  true: b\n'],
    ['a mapping value after a scalar', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a: b\n'],
    ['a sequence inside a sequence', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n  a:\n  - - x\n'],
    ['tabs and CR line ends', 'apiVersion: v1\r\nkind: X\r\nmetadata:\r\n  name: a\r\n'],
    ['a __proto__ key', 'apiVersion: v1\nkind: X\nmetadata:\n  name: a\n__proto__:\n  polluted: true\n'],
  ];
  it.each(cases)('%s: the same objects, styles and errors as the yaml library, or declined', (what, text) => {
    expectSame(text, what);
  });

  it('takes the cases it reads', () => {
    for (const [what, text] of cases.slice(
      0,
      cases.findIndex(([w]) => w === 'a document that is not a mapping'),
    )) {
      expect(fastParseDocuments(text, HOOKS), what).toBeDefined();
    }
  });

  it('declines nesting deeper than it recurses', () => {
    const deep = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n');
    expect(fastParseDocuments(`apiVersion: v1\nkind: X\nmetadata:\n  name: a\nspec:\n${deep.replace(/^/gm, '  ')} 1\n`, HOOKS)).toBeUndefined();
  });

  it('declines what it does not read', () => {
    for (const [what, text] of cases.slice(cases.findIndex(([w]) => w === 'a document that is not a mapping'))) {
      expect(fastParseDocuments(text, HOOKS), what).toBeUndefined();
    }
  });

  it('reads random documents of the subset as the yaml library does', () => {
    // mulberry32: a seeded generator whose every bit varies (an LCG in doubles loses its low bits).
    let seed = 17;
    const rand = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
    const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)] as T;
    const scalars = [
      'a',
      'web',
      '1',
      '-1',
      '0755',
      '1.5',
      'true',
      'False',
      'yes',
      'on',
      '~',
      'null',
      '',
      '2024-01-02',
      'a b',
      'x:y',
      'a#b',
      '.inf',
      '0x10',
      '1_000',
      'é',
      "it's",
      'say "hi"',
      '-x',
      '+1',
      'NaN',
      '.nan',
      'one\ntwo\n',
      'one\n\n  two',
      '#!/bin/sh\necho hi\n',
      ' lead\nx\n',
      'x\n\n\n',
      'a long description of a field',
      "must be 'Full' - or [x] *y &z !t | > % @ ` ? , ] }",
      'back\\ slash \\\\ x " q',
      "it's a b c",
    ];
    const keys = ['a', 'b', 'name', 'app.kubernetes.io/name', 'x-y', 'z_1', 'on', 'y', 'n', 'data', '$ref'];
    const emit = (v: unknown, indent: number, inSeq: boolean): string => {
      const pad = ' '.repeat(indent);
      if (Array.isArray(v)) {
        const seqIndent = inSeq ? indent : indent + pick([0, 2]);
        const p = ' '.repeat(seqIndent);
        return v
          .map((x) =>
            x && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length ? `${p}- ${emit(x, seqIndent + 2, true).trimStart()}` : `${p}-${inline(x, seqIndent + 2)}`,
          )
          .join('');
      }
      const entries = Object.entries(v as Record<string, unknown>);
      return entries
        .map(([k, x]) => {
          const comment = rand(6) === 0 ? `${pad}# note\n` : rand(8) === 0 ? '\n' : '';
          return `${comment}${pad}${k}:${inline(x, indent)}`;
        })
        .join('');
    };
    const inline = (x: unknown, indent: number): string => {
      if (Array.isArray(x)) {
        if (!x.length) return ' []\n';
        // A flow sequence of quoted scalars now and then.
        if (rand(4) === 0 && x.every((e) => typeof e === 'string')) return ` [${x.map((e) => JSON.stringify(e)).join(rand(2) ? ', ' : ',')}]\n`;
        return `\n${emit(x, indent, false)}`;
      }
      if (x && typeof x === 'object') {
        const entries = Object.entries(x);
        if (!entries.length) return ' {}\n';
        // A flow mapping of scalars now and then, plain where that reads back as the same text.
        if (rand(4) === 0 && entries.every(([, e]) => typeof e === 'string' && !e.includes('\n'))) {
          const flowPlain = (e: string) => e !== '' && !/[,[\]{}#:'"&*!|>%@`?]/.test(e) && !/^[- ]|\s$/.test(e);
          return ` {${entries.map(([k, e]) => `${k}: ${rand(2) && flowPlain(e as string) ? e : JSON.stringify(e)}`).join(', ')}}\n`;
        }
        return `\n${emit(x, indent + 2, false)}`;
      }
      if (x === undefined) return rand(2) ? '\n' : ' # empty\n';
      const s = String(x);
      if (s.includes('\n') && rand(3)) {
        const pad = ' '.repeat(indent + 2);
        const body = s.endsWith('\n') ? s.slice(0, -1) : s;
        return ` |${s.endsWith('\n') ? '' : '-'}${rand(4) === 0 ? ' # c' : ''}\n${body
          .split('\n')
          .map((l) => (l ? pad + l : ''))
          .join('\n')}\n`;
      }
      const style = rand(3);
      const plainOk = s !== '' && !s.includes('\n') && !/^[-?:,[\]{}#&*!|>'"%@` ]/.test(s) && !s.includes(': ') && !s.includes(' #') && !s.endsWith(':');
      // Single-quoted, now and then folded over lines at a space (the break reads as that space).
      // Single-quoted or plain, now and then folded over lines at a space (the break reads as that space).
      const fold = (t: string) => t.replace(/ /g, (sp) => (rand(2) ? `\n${' '.repeat(indent + 2 + rand(3))}` : sp));
      const text = style === 0 && plainOk ? (rand(2) ? fold(s) : s) : style === 1 ? fold(`'${s.replaceAll("'", "''")}'`) : rand(2) ? fold(JSON.stringify(s)) : JSON.stringify(s);
      return ` ${text}${rand(5) === 0 ? ' # c' : ''}\n`;
    };
    const value = (depth: number): unknown => {
      const r = rand(depth > 2 ? 2 : 5);
      if (r === 0) return pick(scalars);
      if (r === 1) return rand(4) ? pick(scalars) : undefined;
      if (r === 2) return Array.from({ length: rand(4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < rand(4); i++) o[pick(keys)] = value(depth + 1);
      return o;
    };
    let taken = 0;
    for (let n = 0; n < 400; n++) {
      const doc: Record<string, unknown> = { apiVersion: 'v1', kind: 'X', metadata: { name: `n${n}`, annotations: { a: pick(scalars), b: pick(scalars) } }, spec: value(0) };
      const text = emit(doc, 0, false);
      if (expectSame(text, text)) taken++;
    }
    expect(taken).toBeGreaterThan(250);
  });
});
