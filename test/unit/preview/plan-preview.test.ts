import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import type { TargetState } from '../../../lib/ledger/ledger.js';
import { planPreview, type PreviewRequest } from '../../../lib/preview/plan-preview.js';
import { conclusionOf, hasPreviewChanges, textOf } from '../../../lib/preview/preview-report.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { targetOpener } from '../../../lib/targets/open-target.js';

const cfn = mockClient(CloudFormationClient);
const targets = targetOpener({ cloudformation: () => ({ cfn: new CloudFormationClient({ region: 'eu-west-1' }) }) });

const stackTarget = (name: string, stack: string, extra = '') =>
  `  - name: ${name}\n    type: cloudformation\n    path: infra/${name}.yaml\n    stack: ${stack}\n    region: eu-west-1\n${extra}`;
const config = (...targets: string[]) => `version: 1\ntargets:\n${targets.join('')}`;
const TEMPLATE = 'Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n';
const BASE = 'a'.repeat(40);
const HEAD = 'b'.repeat(40);

const request = (base: Record<string, string>, head: Record<string, string>, files: string[]): PreviewRequest => ({
  repository: 'acme/infra',
  base: BASE,
  head: HEAD,
  baseTree: new MemoryFileTree(base),
  headTree: new MemoryFileTree(head),
  changed: { files, truncated: false },
});

const state = (target: string, o: Partial<TargetState>): TargetState => ({
  targetId: `acme/infra/${target}`,
  repository: 'acme/infra',
  target,
  suspended: false,
  inventory: [],
  dependencies: [],
  lastResult: 'succeeded',
  ...o,
});

describe('planPreview', () => {
  beforeEach(() => {
    cfn.reset();
    cfn
      .on(DescribeStacksCommand)
      .resolves({ Stacks: [{ StackName: 'acme-vpc', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Tags: [{ Key: 'driftless:target', Value: 'acme/infra/vpc' }] }] });
    cfn.on(CreateChangeSetCommand).resolves({ Id: 'cs' });
    cfn.on(DeleteChangeSetCommand).resolves({});
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'No updates are to be performed.' });
  });

  it('takes the touched targets from the dependency files of the last render in the ledger', async () => {
    // GIVEN a stack whose last render read a parameters file outside its path
    const tree = { 'driftless.yaml': config(stackTarget('vpc', 'acme-vpc')), 'infra/vpc.yaml': TEMPLATE };
    const deps = { targets, state: async () => state('vpc', { dependencies: ['infra/vpc.yaml', 'params/vpc.json'], config: { path: 'infra/vpc.yaml' } }) };
    // WHEN the change touches that file, and WHEN it touches only documentation
    const touched = await planPreview(request(tree, tree, ['params/vpc.json']), deps);
    const untouched = await planPreview(request(tree, tree, ['docs/readme.md']), deps);
    // THEN the first is planned (no changes: exit 0), the second touches no target
    expect(touched.targets).toEqual([{ target: 'vpc', type: 'cloudformation', change: 'modified', objects: [], unchanged: 1, blockers: [] }]);
    expect(hasPreviewChanges(touched)).toBe(false);
    expect(untouched.targets).toEqual([]);
    expect(conclusionOf(untouched)).toBe('neutral');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(1);
  });

  it('previews a removed stack with deleteOnRemove as its deletion, and deletes nothing', async () => {
    const base = { 'driftless.yaml': config(stackTarget('vpc', 'acme-vpc', '    cloudformation:\n      deleteOnRemove: true\n')), 'infra/vpc.yaml': TEMPLATE };
    const head = { 'driftless.yaml': config(stackTarget('dns', 'acme-dns')), 'infra/dns.yaml': TEMPLATE };
    const registry = parseRegistry(
      JSON.stringify({ repositories: { 'acme/infra': { clusters: [], namespaces: [], stackPrefix: 'acme-', regions: ['eu-west-1'] } }, clusters: {} }),
    );
    const report = await planPreview({ ...request(base, head, ['driftless.yaml']), target: 'vpc' }, { registry, targets });
    expect(report.targets).toEqual([
      {
        target: 'vpc',
        type: 'cloudformation',
        change: 'removed',
        objects: [{ name: 'stack acme-vpc', action: 'delete', detail: 'deleteOnRemove: the stack and every resource in it are deleted (eu-west-1)' }],
        unchanged: 0,
        blockers: [],
      },
    ]);
    expect(conclusionOf(report)).toBe('success');
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });

  it('fails a removal the registry no longer grants as a blocker', async () => {
    const base = { 'driftless.yaml': config(stackTarget('vpc', 'acme-vpc', '    cloudformation:\n      deleteOnRemove: true\n')), 'infra/vpc.yaml': TEMPLATE };
    const head = { 'driftless.yaml': config(stackTarget('dns', 'other-dns')), 'infra/dns.yaml': TEMPLATE };
    const registry = parseRegistry(
      JSON.stringify({ repositories: { 'acme/infra': { clusters: [], namespaces: [], stackPrefix: 'other-', regions: ['eu-west-1'] } }, clusters: {} }),
    );
    // The ledger's last config decides, checked against the registry of now.
    const report = await planPreview(
      { ...request(base, head, ['driftless.yaml']), target: 'vpc' },
      {
        registry,
        targets,
        state: async () => state('vpc', { config: { name: 'vpc', type: 'cloudformation', stack: 'acme-vpc', region: 'eu-west-1', cloudformation: { deleteOnRemove: true } } }),
      },
    );
    expect(report.targets).toEqual([
      {
        target: 'vpc',
        type: 'cloudformation',
        change: 'removed',
        objects: [{ name: 'stack acme-vpc', action: 'refused', detail: 'the stack is outside the registry\'s stackPrefix "other-"' }],
        unchanged: 0,
        blockers: ['stack acme-vpc would not be deleted (deleteOnRemove): the stack is outside the registry\'s stackPrefix "other-"'],
      },
    ]);
    expect(conclusionOf(report)).toBe('failure');
  });

  it('fails with annotations at file and line for an invalid driftless.yaml at the head', async () => {
    const base = { 'driftless.yaml': config(stackTarget('vpc', 'acme-vpc')), 'infra/vpc.yaml': TEMPLATE };
    const head = { 'driftless.yaml': 'version: 1\ntargets:\n  - name: vpc\n    type: cloudformation\n    path: infra/vpc.yaml\n    region: eu-west-1\n' };
    const report = await planPreview(request(base, head, ['driftless.yaml']), { targets });
    expect(report.targets).toEqual([]);
    expect(report.annotations).toEqual([expect.objectContaining({ path: 'driftless.yaml', line: 3, level: 'failure' })]);
    expect(report.annotations?.[0]?.message).toMatch(/^targets\[0\]/);
    expect(conclusionOf(report)).toBe('failure');
  });

  it('reports a stack this process cannot reach as a blocker, not as a clean preview', async () => {
    const tree = { 'driftless.yaml': config(stackTarget('vpc', 'acme-vpc')), 'infra/vpc.yaml': TEMPLATE };
    const report = await planPreview(request(tree, tree, ['infra/vpc.yaml']), { targets: targetOpener({}) });
    expect(report.targets[0]?.blockers).toEqual(['not previewed: stack targets need AWS access, which this reconciler is not given']);
    expect(conclusionOf(report)).toBe('failure');
    expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(0);
  });

  it("reports CloudFormation's pre-deployment validation findings at their template lines: a WARN lets the change through, a FAIL stops it", async () => {
    const template = 'Resources:\n  Vpc:\n    Type: AWS::EC2::VPC\n  Logs:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: acme-logs\n';
    const base = { 'driftless.yaml': config(stackTarget('vpc', 'acme-vpc')), 'infra/vpc.yaml': TEMPLATE };
    const head = { ...base, 'infra/vpc.yaml': template };
    const add = { Type: 'Resource' as const, ResourceChange: { Action: 'Add' as const, LogicalResourceId: 'Logs', ResourceType: 'AWS::S3::Bucket' } };
    // GIVEN a change set CloudFormation creates with a WARN finding (shapes of DescribeEvents' OperationEvents)
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', Changes: [add] });
    cfn.on(DescribeEventsCommand).resolves({
      OperationEvents: [
        { EventType: 'VALIDATION_ERROR', ValidationName: 'PROPERTY_VALIDATION', ValidationStatus: 'SKIPPED' },
        {
          EventType: 'VALIDATION_ERROR',
          ValidationName: 'RESOURCE_NAME_CONFLICT',
          ValidationStatus: 'FAILED',
          ValidationFailureMode: 'WARN',
          ValidationStatusReason: 'A bucket named acme-logs already exists',
          ValidationPath: '/Resources/Logs/Properties/BucketName',
        },
      ],
    });
    const warned = await planPreview(request(base, head, ['infra/vpc.yaml']), { targets });
    // THEN the finding is shown and annotated at the BucketName line, and the merge would still sync
    expect(warned.targets[0]).toMatchObject({
      blockers: [],
      findings: [{ level: 'warning', name: 'RESOURCE_NAME_CONFLICT', path: '/Resources/Logs/Properties/BucketName' }],
      annotations: [{ path: 'infra/vpc.yaml', line: 7, level: 'warning', message: 'A bucket named acme-logs already exists (/Resources/Logs/Properties/BucketName)' }],
    });
    expect(conclusionOf(warned)).toBe('success');
    expect(textOf(warned)).toContain('? validation WARN RESOURCE_NAME_CONFLICT at /Resources/Logs/Properties/BucketName: A bucket named acme-logs already exists');
    expect(cfn.commandCalls(DescribeEventsCommand)[0]?.args[0].input).toEqual({ StackName: 'acme-vpc', ChangeSetName: 'cs' });
    // GIVEN a FAIL finding, with which CloudFormation fails the change set
    cfn.on(DescribeChangeSetCommand).resolves({ Status: 'FAILED', StatusReason: 'The change set failed pre-deployment validation.' });
    cfn.on(DescribeEventsCommand).resolves({
      OperationEvents: [
        {
          ValidationName: 'PROPERTY_VALIDATION',
          ValidationStatus: 'FAILED',
          ValidationFailureMode: 'FAIL',
          ValidationStatusReason: '#: extraneous key [BucketNme] is not permitted',
          ValidationPath: '/Resources/Logs/Properties/BucketNme',
        },
      ],
    });
    const failed = await planPreview(request(base, head, ['infra/vpc.yaml']), { targets });
    // THEN the preview fails with the finding, annotated at the resource's Properties (the deepest path that exists)
    expect(conclusionOf(failed)).toBe('failure');
    expect(failed.targets[0]?.blockers[0]).toContain('PROPERTY_VALIDATION at /Resources/Logs/Properties/BucketNme: #: extraneous key [BucketNme] is not permitted');
    expect(failed.targets[0]?.annotations).toEqual([
      expect.objectContaining({ path: 'infra/vpc.yaml', line: 6, level: 'failure', title: 'vpc: CloudFormation validation PROPERTY_VALIDATION' }),
    ]);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
  });
});
