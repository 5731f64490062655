import { describe, expect, it } from 'vitest';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { kustomize } from '../../../lib/render/kustomize/build.js';
import { defaultTransformerConfig, mergeTransformerConfigs, parseTransformerConfig } from '../../../lib/render/kustomize/configurations.js';
import { expandVars, formatVar, parseVars } from '../../../lib/render/kustomize/vars.js';

const values: Record<string, string | number | boolean> = { HOST: 'db', PORT: 5432, ON: true };
const lookup = (name: string) => values[name];

describe('expandVars', () => {
  it.each([
    // [input, expected]: Kustomize's refvar DoReplacements
    ['$(HOST)', 'db'],
    ['$(PORT)', 5432], // a whole-string reference keeps the value's type
    ['$(ON)', true],
    ['--db=$(HOST):$(PORT)', '--db=db:5432'],
    ['$$(HOST)', '$(HOST)'], // $$ escapes the operator
    ['$(MISSING)', '$(MISSING)'], // unknown vars stay for a later pass
    ['cost: $5', 'cost: $5'],
    ['$(unclosed', '$(unclosed'],
    ['trailing $', 'trailing $'],
  ] as const)('expands %j to %j', (input, expected) => {
    expect(expandVars(input, lookup)).toEqual(expected);
  });
});

describe('parseVars', () => {
  it('defaults the field path and splits apiVersion, matching keys case-insensitively', () => {
    // GIVEN a var written with Go's case-insensitive field names WHEN parsed
    const [v] = parseVars([{ name: 'HOST', objRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' } }]);
    // THEN it is defaulted as Kustomize's Var.Defaulting does
    expect(v).toEqual({ name: 'HOST', objref: { group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: '' }, fieldPath: 'metadata.name' });
    expect(formatVar(v!)).toBe('{HOST Deployment.v1.apps {metadata.name}}');
  });

  it('fails on a var without a name', () => {
    expect(() => parseVars([{ objref: { kind: 'Service', name: 'x' } }])).toThrow('vars[0] needs a name');
  });
});

describe('transformer configurations', () => {
  it('adds custom field specs to the defaults and drops ones already covered', () => {
    // GIVEN a configuration with one new spec and one the defaults already hold
    const custom = parseTransformerConfig('images:\n- path: spec/image\n  kind: Db\nnamePrefix:\n- path: metadata/name\n');
    // WHEN merged with the defaults
    const merged = mergeTransformerConfigs(defaultTransformerConfig(), custom);
    // THEN only the new spec is added
    expect(merged.images).toContainEqual({ path: 'spec/image', kind: 'Db' });
    expect(merged.namePrefix).toEqual([{ path: 'metadata/name' }]);
  });

  it('merges name references of the same kind', () => {
    const custom = parseTransformerConfig('nameReference:\n- kind: Secret\n  version: v1\n  fieldSpecs:\n  - path: spec/secretName\n    kind: Db\n');
    const merged = mergeTransformerConfigs(defaultTransformerConfig(), custom);
    const secret = merged.nameReference.filter((r) => r.kind === 'Secret' && r.version === 'v1');
    expect(secret).toHaveLength(1);
    expect(secret[0]?.fieldSpecs).toContainEqual({ path: 'spec/secretName', kind: 'Db' });
  });

  it('fails on a spec that conflicts with a default on create', () => {
    const custom = parseTransformerConfig('replicas:\n- path: spec/replicas\n  kind: Deployment\n');
    expect(() => mergeTransformerConfigs(defaultTransformerConfig(), custom)).toThrow('failed to merge Replicas fieldSpec: conflicting fieldspecs');
  });

  it('fails on an unknown field, naming it', () => {
    expect(() => parseTransformerConfig('nameRefrence: []\n')).toThrow('unknown field "nameRefrence"');
  });
});

describe('kustomize with vars, configurations and plugin configs', () => {
  const files = (extra: Record<string, string>) =>
    new MemoryFileTree({
      'app/svc.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {ports: [{port: 5432}]}\n',
      'app/job.yaml':
        'apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec:\n      containers:\n      - name: m\n        image: m\n        args: ["--host=$(HOST)"]\n',
      ...extra,
    });

  it('substitutes a var with the final name of its object', async () => {
    // GIVEN a prefixed build whose Job refers to the Service through a var
    const tree = files({
      'app/kustomization.yaml': 'namePrefix: p-\nresources: [svc.yaml, job.yaml]\nvars:\n- name: HOST\n  objref: {apiVersion: v1, kind: Service, name: db}\n',
    });
    // WHEN built
    const { objects } = await kustomize(tree, 'app');
    // THEN the reference carries the prefixed name
    const job = objects.find((o) => o.kind === 'Job') as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    expect(job.spec.template.spec.containers[0]?.args).toEqual(['--host=p-db']);
  });

  it('fails on an exec plugin, saying that it runs code', async () => {
    const tree = files({
      'app/kustomization.yaml': 'resources: [svc.yaml]\ntransformers:\n- |-\n  apiVersion: someone.example/v1\n  kind: Run\n  metadata: {name: x}\n',
    });
    await expect(kustomize(tree, 'app')).rejects.toThrow(/unable to load external plugin 'Run'.*runs code/);
  });

  it('fails on HelmChartInflationGenerator as a plugin config, pointing at helmCharts', async () => {
    const tree = files({
      'app/kustomization.yaml': 'resources: [svc.yaml]\ngenerators:\n- |-\n  apiVersion: builtin\n  kind: HelmChartInflationGenerator\n  metadata: {name: c}\n',
    });
    await expect(kustomize(tree, 'app')).rejects.toThrow('builtin plugin HelmChartInflationGenerator: list the chart under helmCharts instead');
  });
});

describe('built-in plugin configs', () => {
  const tree = (transformers: string) =>
    new MemoryFileTree({
      'k/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: "1"}\n',
      'k/kustomization.yaml': `resources: [cm.yaml]\ntransformers:\n- |-\n${transformers.replace(/^/gm, '  ')}\n`,
    });

  it.each([
    // [plugin config, message as Kustomize words it]
    ['apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata: {name: p}\nprefix: x-', 'fieldSpecs is not expected to be nil'],
    ['apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: j}\ntarget: {kind: ConfigMap}\njsonOp: "[]"', 'must specify the target name'],
    ['apiVersion: builtin\nkind: PatchStrategicMergeTransformer\nmetadata: {name: s}', 'empty file path and empty patch content'],
    ['apiVersion: builtin\nkind: NoSuchTransformer\nmetadata: {name: n}', 'unable to load builtin NoSuchTransformer'],
  ])('fails on %j', async (config, message) => {
    await expect(kustomize(tree(config), 'k')).rejects.toThrow(message);
  });

  it('runs a JSON patch plugin on its target only', async () => {
    // GIVEN an inline PatchJson6902Transformer WHEN built THEN the ConfigMap is patched
    const { objects } = await kustomize(
      tree(
        'apiVersion: builtin\nkind: PatchJson6902Transformer\nmetadata: {name: j}\ntarget: {kind: ConfigMap, name: cm}\njsonOp: \'[{"op": "replace", "path": "/data/b", "value": "2"}]\'',
      ),
      'k',
    );
    expect(objects[0]?.data).toEqual({ a: '1', b: '2' });
  });
});
