import { describe, expect, it } from 'vitest';
import { parseDriftlessConfig, parseRegistry } from '../../../lib/config/load-config.js';
import { ConfigError } from '../../../lib/core/errors.js';

const registry = parseRegistry(
  JSON.stringify({
    repositories: {
      'acme/platform-config': {
        clusters: ['dev', 'prod'],
        namespaces: ['shop-*', 'platform'],
        stackPrefix: 'acme-',
        regions: ['eu-west-1'],
        pruneKinds: ['PersistentVolumeClaim'],
        cloudformation: { capabilities: ['CAPABILITY_NAMED_IAM'] },
      },
    },
    clusters: { dev: { eks: { name: 'dev-cluster', region: 'eu-west-1' } }, prod: { kubeconfigSecret: 'driftless/clusters/prod' } },
  }),
);
const opts = { repository: 'acme/platform-config', registry };

const errorOf = (text: string, o: Parameters<typeof parseDriftlessConfig>[1] = opts): ConfigError => {
  try {
    parseDriftlessConfig(text, o);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('parseDriftlessConfig', () => {
  it('fills in every default of DESIGN.md', () => {
    // GIVEN a minimal file WHEN it is parsed
    const config = parseDriftlessConfig('version: 1\ntargets:\n  - name: demo-dev\n    path: deploy/dev\n    cluster: dev\n', opts);
    // THEN every default is there
    expect(config).toEqual({
      version: 1,
      targets: [
        {
          name: 'demo-dev',
          type: 'kubernetes',
          branch: 'main',
          path: 'deploy/dev',
          cluster: 'dev',
          suspend: false,
          selfHeal: false,
          apply: { force: true, concurrency: 8 },
          prune: { enabled: true, allowEmpty: false, allowKinds: [], maxDeleteShare: 0.5 },
          wait: { enabled: false, timeout: '5m' },
        },
      ],
      notifications: { slack: { on: ['drift', 'failure'] } },
    });
  });

  it('parses the cloudformation target of DESIGN.md', () => {
    const config = parseDriftlessConfig(
      [
        'version: 1',
        'targets:',
        '  - name: network-vpc',
        '    type: cloudformation',
        '    path: infra/aws/vpc/template.yaml',
        '    stack: acme-network-vpc',
        '    region: eu-west-1',
        '    parameters: infra/aws/vpc/prod.params.json',
        '    cloudformation: { capabilities: [CAPABILITY_NAMED_IAM], tags: { team: net }, deleteOnRemove: false }',
        'notifications:',
        '  slack: { on: [drift, failure] }',
      ].join('\n'),
      opts,
    );
    expect(config.targets[0]).toMatchObject({
      type: 'cloudformation',
      branch: 'main',
      stack: 'acme-network-vpc',
      cloudformation: { capabilities: ['CAPABILITY_NAMED_IAM'], tags: { team: 'net' }, deleteOnRemove: false },
    });
  });

  it.each([
    // [what, yaml, expected message]
    [
      'an unknown key',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    prnue: {enabled: false}\n',
      'driftless.yaml:6:5 targets[0].prnue: unknown field "prnue"',
    ],
    [
      'an unknown nested key',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    prune: {enabld: false}\n',
      'driftless.yaml:6:13 targets[0].prune.enabld: unknown field "enabld"',
    ],
    [
      'a wrong type',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    prune: {enabled: "no"}\n',
      'driftless.yaml:6:22 targets[0].prune.enabled: expected boolean',
    ],
    ['a missing field', 'version: 1\ntargets:\n  - name: a\n    cluster: dev\n', 'targets[0].path: is required'],
    [
      'a cluster outside the registry entry',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n  - name: b\n    path: p\n    cluster: staging\n',
      'driftless.yaml:8:14 targets[1].cluster: cluster "staging" is not allowed for acme/platform-config',
    ],
    [
      'a namespace outside the registry entry',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    namespace: kube-system\n',
      'targets[0].namespace: namespace "kube-system" is not allowed',
    ],
    [
      'a stack without the prefix',
      'version: 1\ntargets:\n  - name: a\n    type: cloudformation\n    path: t.yaml\n    stack: other-vpc\n    region: eu-west-1\n',
      'targets[0].stack: stack "other-vpc" must start with "acme-"',
    ],
    [
      'a region outside the registry entry',
      'version: 1\ntargets:\n  - name: a\n    type: cloudformation\n    path: t.yaml\n    stack: acme-vpc\n    region: us-east-1\n',
      'targets[0].region: region "us-east-1" is not allowed',
    ],
    [
      'duplicate target names',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n  - name: a\n    path: q\n    cluster: dev\n',
      'driftless.yaml:6:11 targets[1].name: duplicate target name "a"',
    ],
    ['an unknown type', 'version: 1\ntargets:\n  - name: a\n    type: helm\n    path: p\n', 'targets[0].type: must be kubernetes or cloudformation'],
    ['a path leaving the repository', 'version: 1\ntargets:\n  - name: a\n    path: ../other\n    cluster: dev\n', 'targets[0].path: must be a path inside the repository'],
    ['invalid YAML', 'version: 1\ntargets:\n  - name: a\n   path: p\n', 'driftless.yaml:4:1 invalid YAML'],
    [
      'a protected kind to prune the registry does not grant',
      'version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    prune:\n      allowKinds: [PersistentVolumeClaim, Namespace]\n',
      'driftless.yaml:7:43 targets[0].prune.allowKinds[1]: kind Namespace is not granted to acme/platform-config (registry pruneKinds)',
    ],
    [
      'a kubernetes field on a stack',
      'version: 1\ntargets:\n  - name: a\n    type: cloudformation\n    path: t.yaml\n    stack: acme-x\n    region: eu-west-1\n    cluster: dev\n',
      'targets[0].cluster: unknown field "cluster"',
    ],
  ])('fails on %s', (_what, yaml, message) => {
    expect(errorOf(yaml).message).toContain(message);
  });

  it('reports every problem at once', () => {
    const err = errorOf('version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    x: 1\n    y: 2\n');
    expect(err.issues.map((i) => i.field)).toEqual(['targets[0].x', 'targets[0].y']);
  });

  it('fails for a repository that is not registered', () => {
    expect(errorOf('version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n', { repository: 'evil/repo', registry }).message).toContain(
      'repository evil/repo is not in the registry',
    );
  });
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('finds no registry entry for a repository named %s', (name) => {
    expect(errorOf('version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n', { repository: name, registry }).message).toContain(
      `repository ${name} is not in the registry`,
    );
  });

  it('finds no registry cluster named like an Object.prototype property', () => {
    const r = parseRegistry(JSON.stringify({ repositories: { 'a/b': { clusters: [] } }, clusters: {} }));
    const grant = r.repositories['a/b'];
    if (!grant) throw new Error('no grant');
    grant.clusters.push('constructor');
    expect(errorOf('version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: constructor\n', { repository: 'a/b', registry: r }).message).toContain(
      'cluster "constructor" is not defined in the registry',
    );
  });
});

describe('parseRegistry', () => {
  it('refuses registry keys that are not names: a repository or cluster called __proto__, a branch that reads as an option', () => {
    const bad = (json: string) => {
      try {
        parseRegistry(json);
      } catch (e) {
        return (e as Error).message;
      }
      return 'parsed';
    };
    expect(bad('{"repositories": {"__proto__": {"namespaces": ["a"]}}}')).toContain('__proto__: must be OWNER/NAME');
    expect(bad('{"repositories": {"../x/y": {}}}')).toContain('must be OWNER/NAME');
    expect(bad('{"repositories": {"a/b": {}}, "clusters": {"__proto__": {"context": "x"}}}')).toContain('clusters.__proto__: must be a cluster name');
    expect(errorOf('version: 1\ntargets:\n  - name: a\n    path: p\n    cluster: dev\n    branch: --output=x\n', { repository: 'acme/shop', registry }).message).toContain(
      'must be a valid Git branch name',
    );
  });
  it('defaults the grants to nothing: no cluster-scoped kinds, no adoption, no protected kinds to prune', () => {
    const r = parseRegistry(JSON.stringify({ repositories: { 'a/b': { namespaces: ['b-*'] } } }));
    expect(r.repositories['a/b']).toMatchObject({ clusterScoped: [], adopt: false, pruneKinds: [], previewForks: false });
  });

  it.each([
    [{ clusterScoped: ['cluster-role'] }, 'repositories.a/b.clusterScoped[0]: must be Kind or group/Kind'],
    [{ clusterScoped: ['Namespace'] }, 'repositories.a/b.clusterScoped[0]: must not be Namespace: namespaces are granted by the namespaces patterns'],
    [{ pruneKinds: ['Secret'] }, 'repositories.a/b.pruneKinds[0]'],
    [{ adopt: 'yes' }, 'repositories.a/b.adopt: expected boolean'],
    [{ previewForks: 'yes' }, 'repositories.a/b.previewForks: expected boolean'],
  ])('fails on a registry entry %j', (entry, message) => {
    expect(() => parseRegistry(JSON.stringify({ repositories: { 'a/b': entry } }), 'registry.json')).toThrow(message);
  });

  it('fails when a repository names an undefined cluster', () => {
    expect(() => parseRegistry(JSON.stringify({ repositories: { 'a/b': { clusters: ['x'] } }, clusters: {} }), 'registry.json')).toThrow(
      'registry.json:1:37 repositories.a/b.clusters[0]: cluster "x" is not defined under clusters',
    );
  });
});
