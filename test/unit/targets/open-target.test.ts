import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { describe, expect, it } from 'vitest';
import { parseDriftlessConfig, parseRegistry } from '../../../lib/config/load-config.js';
import type { CloudFormationTargetConfig, KubernetesTargetConfig } from '../../../lib/config/schema.js';
import type { KubeClient } from '../../../lib/targets/kubernetes/kube-client.js';
import { openTarget } from '../../../lib/targets/open-target.js';

const config = parseDriftlessConfig(
  'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop\n    wait: {enabled: true, timeout: 10m}\n  - name: vpc\n    type: cloudformation\n    path: vpc.yaml\n    stack: acme-vpc\n    region: eu-west-1\n',
);
const web = config.targets[0] as KubernetesTargetConfig;
const vpc = config.targets[1] as CloudFormationTargetConfig;
const client = {} as KubeClient;

describe('openTarget', () => {
  it('opens the cluster a Kubernetes target names, through the access it is given', async () => {
    const asked: string[] = [];
    const target = await openTarget({ id: 'acme/shop/web', repository: 'acme/shop', config: web }, { cluster: async (name) => (asked.push(name), client) });
    expect(asked).toEqual(['dev']);
    expect('unreachable' in target ? undefined : target.kind).toBe('kubernetes');
  });

  it('says a stack target is unreachable without CloudFormation access, rather than failing', async () => {
    expect(await openTarget({ id: 'acme/infra/vpc', repository: 'acme/infra', config: vpc }, {})).toEqual({
      unreachable: 'stack targets need AWS access, which this reconciler is not given',
    });
  });

  it('opens a stack target in the target region with the deployment role when the target names none', async () => {
    const regions: string[] = [];
    const registry = parseRegistry('repositories:\n  acme/infra: {stackPrefix: acme-, regions: [eu-west-1], adopt: true}\n', 'registry.yaml');
    const target = await openTarget(
      { id: 'acme/infra/vpc', repository: 'acme/infra', config: vpc },
      { registry, cloudformation: (region) => (regions.push(region), { cfn: new CloudFormationClient({ region }), roleArn: 'arn:aws:iam::123456789012:role/deploy' }) },
    );
    expect(regions).toEqual(['eu-west-1']);
    expect('unreachable' in target ? undefined : target.kind).toBe('cloudformation');
  });
});
