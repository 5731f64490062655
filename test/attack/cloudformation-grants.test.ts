import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../lib/config/load-config.js';
import type { Registry } from '../../lib/config/schema.js';
import { reconcileTarget } from '../../lib/reconcile/reconcile-target.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

/**
 * An attacker with merge rights to acme/shop, whose registry entry grants stacks `acme-*` in eu-west-1 with
 * CAPABILITY_NAMED_IAM and no service role of its own. Each case is a commit through the whole pipeline
 * (webhook → reconcile → ledger), CloudFormation mocked at the SDK; each asserts what was refused, the error
 * text, the CloudFormation calls that were (not) made, and the ledger record.
 */
const cfn = mockClient(CloudFormationClient);
const DEPLOYMENT_ROLE = 'arn:aws:iam::123456789012:role/driftless-cfn';
const ADMIN_ROLE = 'arn:aws:iam::123456789012:role/OrganizationAdmin';
const TEMPLATE = 'Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n';
const missing = Object.assign(new Error('Stack with id acme-vpc does not exist'), { name: 'ValidationError' });
const described = (StackStatus: StackStatus, tags: Record<string, string>) => ({
  Stacks: [{ StackName: 'acme-vpc', StackStatus, CreationTime: new Date(), Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
});
const stackConfig = (name: string, extra = '', stack = 'acme-vpc') =>
  `version: 1\ntargets:\n  - name: ${name}\n    type: cloudformation\n    path: infra/t.yaml\n    stack: ${stack}\n    region: eu-west-1\n${extra}`;
const K8S_ONLY = 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop-web\n';
/** The names of every CloudFormation command sent since the last reset. */
const sent = () => cfn.calls().map((c) => (c.args[0] as object).constructor.name.replace(/Command$/, ''));

describe('attack: CloudFormation grants', () => {
  let p: Pipeline;
  let head = '0'.repeat(40);
  let original: Registry;
  const setRegistry = (r: Registry) => {
    (p.deps as { registry: Registry }).registry = r;
    p.access.registry = r;
    (p.webhookDeps as { registry: Registry }).registry = r;
  };
  /** Commits the files and delivers the push; returns the webhook's answer. */
  const push = async (files: Record<string, string | null>) => {
    const next = p.commit(files);
    const res = await p.deliver('push', pushPayload(head, next));
    head = next;
    return res;
  };
  /** What the sweeper (or `driftless trigger`) does for a target the webhook did not hand off. */
  const sweep = (target: string) => reconcileTarget({ repository: REPO, target, branch: 'main', trigger: 'sweeper' }, { ...p.deps, holder: `sweep-${target}` });
  const latest = async (target: string) => (await p.ledger.history({ targetId: `${REPO}/${target}`, limit: 5 })).items;

  beforeAll(async () => {
    p = await startPipeline();
    original = p.registry;
    p.access.cloudformation = () => ({ cfn: new CloudFormationClient({ region: 'eu-west-1' }), roleArn: DEPLOYMENT_ROLE });
    p.commit({ 'infra/t.yaml': TEMPLATE, 'deploy/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-web\n' });
  }, 120_000);
  afterAll(() => p?.stop());
  beforeEach(() => {
    cfn.reset();
    cfn.on(DescribeStacksCommand).rejects(missing);
    setRegistry(original);
  });

  it('refuses a roleArn the registry does not grant: no stack call, a failed record naming the role', async () => {
    const res = await push({ 'driftless.yaml': stackConfig('role', `    cloudformation: { roleArn: ${ADMIN_ROLE} }\n`) });
    const message = `driftless.yaml:8:32 targets[0].cloudformation.roleArn: role ${ADMIN_ROLE} is not granted to acme/shop by the registry (granted: none)`;
    expect(res.body).toMatchObject({ status: 'ignored', reason: `invalid driftless.yaml: ${message}` });
    expect(p.github.statuses.filter((s) => s.sha === head).pop()).toMatchObject({ context: 'driftless', state: 'failure' });
    await sweep('role');
    const [record, ...older] = await latest('role');
    expect(older).toEqual([]);
    expect(record).toMatchObject({ result: 'failed', commit: head, error: { message } });
    expect(sent()).toEqual([]);
  });

  it('refuses a capability the registry does not grant', async () => {
    await push({ 'driftless.yaml': stackConfig('caps', '    cloudformation: { capabilities: [CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND] }\n') });
    await sweep('caps');
    const [record] = await latest('caps');
    expect(record).toMatchObject({ result: 'failed' });
    expect(record?.error?.message).toBe(
      'driftless.yaml:8:60 targets[0].cloudformation.capabilities[1]: capability CAPABILITY_AUTO_EXPAND is not granted to acme/shop by the registry (granted: CAPABILITY_NAMED_IAM)',
    );
    expect(sent()).toEqual([]);
  });

  it('refuses an empty stackPrefix in the registry, and stack targets of a repository with none', async () => {
    const entry = original.repositories[REPO];
    expect(() => parseRegistry(JSON.stringify({ repositories: { [REPO]: { ...entry, stackPrefix: '' } }, clusters: {} }), 'registry.json')).toThrow(
      'repositories.acme/shop.stackPrefix: must not be empty (an empty prefix grants every stack)',
    );
    const { stackPrefix: _dropped, ...withoutPrefix } = entry ?? { clusters: [], namespaces: [], regions: [] };
    setRegistry(parseRegistry(JSON.stringify({ repositories: { [REPO]: withoutPrefix }, clusters: original.clusters })));
    const res = await push({ 'driftless.yaml': stackConfig('noprefix', '', 'anything-goes') });
    expect(String(res.body.reason)).toContain('stack "anything-goes" is not allowed: acme/shop has no stackPrefix in the registry');
    await sweep('noprefix');
    const [record] = await latest('noprefix');
    expect(record).toMatchObject({
      result: 'failed',
      error: { message: 'driftless.yaml:6:12 targets[0].stack: stack "anything-goes" is not allowed: acme/shop has no stackPrefix in the registry' },
    });
    expect(sent()).toEqual([]);
  });

  it('refuses to update an existing stack of the right name that carries no ownership tag: only DescribeStacks is sent', async () => {
    cfn.on(DescribeStacksCommand).resolves(described('UPDATE_COMPLETE', { owner: 'platform-team' }));
    const res = await push({ 'driftless.yaml': stackConfig('foreign') });
    expect(res.status).toBe(202);
    const [record] = await latest('foreign');
    expect(record).toMatchObject({
      result: 'failed',
      commit: head,
      error: {
        message:
          "stack acme-vpc exists and is not managed by acme/shop/foreign (no driftless:target tag; tags: owner=platform-team); the registry's adopt lets this repository take such stacks over",
      },
    });
    expect(sent()).toEqual(['DescribeStacks']);
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(p.github.statuses.filter((s) => s.sha === head && s.context === 'driftless/foreign').pop()?.state).toBe('failure');
    // The refused stack is not this target's: it is not recorded as its inventory.
    expect((await p.ledger.getState(`${REPO}/foreign`))?.inventory).toEqual([]);
  });

  it('never deletes a ROLLBACK_COMPLETE stack another target owns, even where the registry allows adoption', async () => {
    const entry = original.repositories[REPO];
    setRegistry(parseRegistry(JSON.stringify({ repositories: { [REPO]: { ...entry, adopt: true } }, clusters: original.clusters })));
    cfn.on(DescribeStacksCommand).resolves(described('ROLLBACK_COMPLETE', { 'driftless:target': 'acme/billing/vpc' }));
    await push({ 'driftless.yaml': stackConfig('rollback') });
    const [record] = await latest('rollback');
    expect(record).toMatchObject({
      result: 'failed',
      error: { message: 'stack acme-vpc is managed by acme/billing/vpc, not acme/shop/rollback: two targets never share a stack (tags: driftless:target=acme/billing/vpc)' },
    });
    expect(sent()).toEqual(['DescribeStacks']);
  });

  it("does not delete a removed target's stack (deleteOnRemove) once the repository lost its grant", async () => {
    // Created legitimately while granted.
    cfn
      .on(DescribeStacksCommand)
      .rejectsOnce(missing)
      .resolves(described('CREATE_COMPLETE', { 'driftless:target': `${REPO}/removed` }));
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn
      .on(DescribeChangeSetCommand)
      .resolves({ Status: 'CREATE_COMPLETE', Changes: [{ ResourceChange: { Action: 'Add', LogicalResourceId: 'Bucket', ResourceType: 'AWS::S3::Bucket' } }] });
    cfn.on(ExecuteChangeSetCommand).resolves({});
    await push({ 'driftless.yaml': stackConfig('removed', '    cloudformation: { deleteOnRemove: true }\n') });
    expect((await latest('removed'))[0]).toMatchObject({ result: 'succeeded' });
    expect(cfn.commandCalls(CreateChangeSetCommand)[0]?.args[0].input.Tags).toContainEqual({ Key: 'driftless:target', Value: `${REPO}/removed` });

    // The operator moves the repository to a narrower prefix; the attacker then removes the target from Git.
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves(described('CREATE_COMPLETE', { 'driftless:target': `${REPO}/removed` }));
    const entry = original.repositories[REPO];
    setRegistry(parseRegistry(JSON.stringify({ repositories: { [REPO]: { ...entry, stackPrefix: 'acme-shop-' } }, clusters: original.clusters })));
    await push({ 'driftless.yaml': K8S_ONLY });
    const [record] = await latest('removed');
    expect(record).toMatchObject({
      result: 'failed',
      commit: head,
      error: { message: 'removed left driftless.yaml; stack acme-vpc not deleted (deleteOnRemove): the stack is outside the registry\'s stackPrefix "acme-shop-"' },
    });
    expect(sent()).toEqual([]);

    // Dropped from the registry altogether: the webhook ignores the repository, a sweep refuses it.
    setRegistry(parseRegistry(JSON.stringify({ repositories: {}, clusters: original.clusters })));
    expect((await push({ 'README.md': 'bye\n' })).body).toMatchObject({ status: 'ignored', reason: 'repository acme/shop is not registered' });
    await sweep('removed');
    expect((await latest('removed'))[0]?.error?.message).toContain('repository acme/shop is not in the registry');
    expect(sent()).toEqual([]);
  });
});
