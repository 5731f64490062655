import { describe, expect, it } from 'vitest';
import { parseDriftlessConfig, parseRegistry } from '../../../lib/config/load-config.js';
import { overlappingStackPrefixes, whyStackNotGranted } from '../../../lib/config/stack-grants.js';
import { ConfigError } from '../../../lib/core/errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/net-deployer';
const registryYaml = `repositories:
  acme/net:
    stackPrefix: acme-net-
    regions: [eu-west-1]
    cloudformation:
      roleArns: [${ROLE}]
      capabilities: [CAPABILITY_IAM]
  acme/web:
    regions: [eu-west-1]
`;
const registry = parseRegistry(registryYaml, 'registry.yaml');
const stackTarget = (extra: string, stack = 'acme-net-vpc') =>
  `version: 1\ntargets:\n  - name: vpc\n    type: cloudformation\n    path: vpc.yaml\n    stack: ${stack}\n    region: eu-west-1\n${extra}`;

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('stack grants in driftless.yaml', () => {
  it('accepts a granted role and a subset of the granted capabilities', () => {
    const config = parseDriftlessConfig(stackTarget(`    cloudformation: { roleArn: ${ROLE}, capabilities: [CAPABILITY_IAM] }\n`), { repository: 'acme/net', registry });
    expect(config.targets[0]).toMatchObject({ cloudformation: { roleArn: ROLE, capabilities: ['CAPABILITY_IAM'] } });
  });

  it('names file, line and field of a capability and a role the registry does not grant', () => {
    const text = stackTarget('    cloudformation:\n      capabilities: [CAPABILITY_IAM, CAPABILITY_NAMED_IAM]\n      roleArn: arn:aws:iam::123456789012:role/admin\n');
    expect(issuesOf(() => parseDriftlessConfig(text, { repository: 'acme/net', registry }))).toEqual([
      'driftless.yaml:9:38 targets[0].cloudformation.capabilities[1]: capability CAPABILITY_NAMED_IAM is not granted to acme/net by the registry (granted: CAPABILITY_IAM)',
      `driftless.yaml:10:16 targets[0].cloudformation.roleArn: role arn:aws:iam::123456789012:role/admin is not granted to acme/net by the registry (granted: ${ROLE})`,
    ]);
  });

  it('grants nothing by default: any capability or role is refused', () => {
    const bare = parseRegistry('repositories:\n  acme/net: { stackPrefix: acme-net-, regions: [eu-west-1] }\n');
    const text = stackTarget(`    cloudformation: { capabilities: [CAPABILITY_AUTO_EXPAND], roleArn: ${ROLE} }\n`);
    const issues = issuesOf(() => parseDriftlessConfig(text, { repository: 'acme/net', registry: bare }));
    expect(issues).toHaveLength(2);
    expect(issues[0]).toContain('capability CAPABILITY_AUTO_EXPAND is not granted to acme/net by the registry (granted: none)');
    expect(issues[1]).toContain('(granted: none)');
  });

  it('refuses a stack target of a repository without a stackPrefix', () => {
    expect(issuesOf(() => parseDriftlessConfig(stackTarget('', 'acme-web'), { repository: 'acme/web', registry }))).toEqual([
      'driftless.yaml:6:12 targets[0].stack: stack "acme-web" is not allowed: acme/web has no stackPrefix in the registry',
    ]);
  });
});

describe('stack prefixes in the registry', () => {
  it('refuses an empty stackPrefix, which would grant every stack', () => {
    expect(issuesOf(() => parseRegistry('repositories:\n  acme/net: { stackPrefix: "" }\n', 'registry.yaml'))).toEqual([
      'registry.yaml:2:28 repositories.acme/net.stackPrefix: must not be empty (an empty prefix grants every stack)',
    ]);
  });

  it('refuses a stackPrefix that is no start of a stack name (it becomes part of IAM resource ARNs)', () => {
    expect(issuesOf(() => parseRegistry('repositories:\n  acme/net: { stackPrefix: "*" }\n'))[0]).toContain('must be the start of a CloudFormation stack name');
  });

  it('refuses two repositories whose prefixes overlap, naming the pair', () => {
    const text = 'repositories:\n  acme/net: { stackPrefix: acme- }\n  acme/shop: { stackPrefix: acme-shop- }\n  acme/web: { stackPrefix: web- }\n';
    expect(issuesOf(() => parseRegistry(text, 'registry.yaml'))).toEqual([
      'registry.yaml:3:29 repositories.acme/shop.stackPrefix: stackPrefix "acme-" of acme/net overlaps stackPrefix "acme-shop-" of acme/shop: each could name the other\'s stacks',
    ]);
  });

  it('counts equal prefixes, and prefixes that differ only in case, as overlapping', () => {
    expect(overlappingStackPrefixes({ 'a/x': { stackPrefix: 'Team-' }, 'b/y': { stackPrefix: 'team-' }, 'c/z': {} })).toEqual([['a/x', 'b/y']]);
    expect(overlappingStackPrefixes({ 'a/x': { stackPrefix: 'net-' }, 'b/y': { stackPrefix: 'network-' } })).toEqual([]);
  });
});

describe('whyStackNotGranted', () => {
  const grant = registry.repositories['acme/net'];
  it('says why a removed stack may no longer be deleted', () => {
    expect(whyStackNotGranted(grant, { stack: 'acme-net-vpc', region: 'eu-west-1', roleArn: ROLE })).toBeUndefined();
    expect(whyStackNotGranted(undefined, { stack: 'acme-net-vpc', region: 'eu-west-1' })).toBe('the repository is no longer in the registry');
    expect(whyStackNotGranted(grant, { stack: 'acme-web-vpc', region: 'eu-west-1' })).toBe('the stack is outside the registry\'s stackPrefix "acme-net-"');
    expect(whyStackNotGranted(grant, { stack: 'acme-net-vpc', region: 'us-east-1' })).toBe('region us-east-1 is no longer allowed by the registry');
    expect(whyStackNotGranted(grant, { stack: 'acme-net-vpc', region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/x' })).toContain('is no longer granted');
    expect(whyStackNotGranted(registry.repositories['acme/web'], { stack: 'acme-net-vpc', region: 'eu-west-1' })).toBe('the repository has no stackPrefix in the registry');
  });
});
