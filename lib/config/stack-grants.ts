import type { CloudFormationTargetConfig, Registry, RepositoryGrant } from './schema.js';

/** A problem of one field of a stack target: the field's path below the target, and the message. */
export interface StackGrantIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * What a stack target asks that its repository's registry entry does not grant: a stack outside the
 * `stackPrefix` (or no prefix at all), a region not listed, a capability or a service role not granted under
 * `cloudformation`. A target naming no role uses the deployment's service role, which needs no grant.
 */
export const stackGrantIssues = (
  target: Pick<CloudFormationTargetConfig, 'stack' | 'region' | 'cloudformation'>,
  grant: RepositoryGrant,
  repository: string,
): StackGrantIssue[] => {
  const issues: StackGrantIssue[] = [];
  const prefix = grant.stackPrefix;
  if (!prefix) {
    issues.push({ path: ['stack'], message: `stack "${target.stack}" is not allowed: ${repository} has no stackPrefix in the registry` });
  } else if (!target.stack.startsWith(prefix)) {
    issues.push({ path: ['stack'], message: `stack "${target.stack}" must start with "${prefix}" for ${repository}` });
  }
  if (!grant.regions.includes(target.region)) {
    issues.push({ path: ['region'], message: `region "${target.region}" is not allowed for ${repository}` });
  }
  const granted = grant.cloudformation.capabilities;
  target.cloudformation.capabilities.forEach((c, j) => {
    if (!(granted as readonly string[]).includes(c)) {
      issues.push({
        path: ['cloudformation', 'capabilities', j],
        message: `capability ${c} is not granted to ${repository} by the registry (granted: ${granted.length ? granted.join(', ') : 'none'})`,
      });
    }
  });
  const role = target.cloudformation.roleArn;
  if (role !== undefined && !grant.cloudformation.roleArns.includes(role)) {
    issues.push({
      path: ['cloudformation', 'roleArn'],
      message: `role ${role} is not granted to ${repository} by the registry (granted: ${grant.cloudformation.roleArns.length ? grant.cloudformation.roleArns.join(', ') : 'none'})`,
    });
  }
  return issues;
};

/**
 * Pairs of repositories whose stack prefixes overlap (one starts with the other, compared without case):
 * each could then name the other's stacks. Returned as `[a, b]` with `a` sorted first.
 */
export const overlappingStackPrefixes = (repositories: Readonly<Record<string, { readonly stackPrefix?: string | undefined }>>): [string, string][] => {
  const withPrefix = Object.entries(repositories)
    .filter((e): e is [string, { stackPrefix: string }] => typeof e[1].stackPrefix === 'string')
    .sort(([a], [b]) => a.localeCompare(b));
  const pairs: [string, string][] = [];
  for (let i = 0; i < withPrefix.length; i++) {
    for (let j = i + 1; j < withPrefix.length; j++) {
      const [ra, ga] = withPrefix[i] as [string, { stackPrefix: string }];
      const [rb, gb] = withPrefix[j] as [string, { stackPrefix: string }];
      const a = ga.stackPrefix.toLowerCase();
      const b = gb.stackPrefix.toLowerCase();
      if (a.startsWith(b) || b.startsWith(a)) pairs.push([ra, rb]);
    }
  }
  return pairs;
};

/** The message for an overlapping pair, naming both repositories and prefixes. */
export const overlapMessage = (repositories: Readonly<Record<string, { readonly stackPrefix?: string | undefined }>>, [a, b]: readonly [string, string]): string =>
  `stackPrefix "${repositories[a]?.stackPrefix}" of ${a} overlaps stackPrefix "${repositories[b]?.stackPrefix}" of ${b}: each could name the other's stacks`;

/** The registry's entry for a repository (own properties only: `__proto__` is no repository). */
export const registryGrant = (registry: Registry, repository: string): RepositoryGrant | undefined =>
  Object.hasOwn(registry.repositories, repository) ? registry.repositories[repository] : undefined;

/**
 * Why a stack is outside the repository's current grant (no entry, outside the prefix, region or service role no
 * longer granted), or undefined when it is inside; a stack target removed from Git is deleted only when it is
 * (`deleteOnRemove`).
 */
export const whyStackNotGranted = (grant: RepositoryGrant | undefined, stack: { stack: string; region: string; roleArn?: string | undefined }): string | undefined => {
  if (!grant) return 'the repository is no longer in the registry';
  if (!grant.stackPrefix) return 'the repository has no stackPrefix in the registry';
  if (!stack.stack.startsWith(grant.stackPrefix)) return `the stack is outside the registry's stackPrefix "${grant.stackPrefix}"`;
  if (!grant.regions.includes(stack.region)) return `region ${stack.region} is no longer allowed by the registry`;
  if (stack.roleArn !== undefined && !grant.cloudformation.roleArns.includes(stack.roleArn)) return `role ${stack.roleArn} is no longer granted by the registry`;
  return undefined;
};
