/**
 * A reconcile invocation that is killed mid-apply (the fault test SIGKILLs it): it applies the target's first
 * write, says `applied` on stdout and hangs there, holding its lease with the heartbeat until it dies.
 * Input (JSON in DRIFTLESS_CRASH_INPUT): DynamoDB endpoint, table, GitHub URL, registry, request, lease TTL.
 */
import { parseRegistry } from '../../../lib/config/load-config.js';
import { dynamoDbClient } from '../../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../../lib/ledger/dynamodb-ledger.js';
import { reconcileTarget, type ReconcileRequest } from '../../../lib/reconcile/reconcile-target.js';
import { GitHubSource } from '../../../lib/source/github-source.js';
import { clusterClients } from '../../../lib/targets/kubernetes/cluster-clients.js';
import { targetOpener } from '../../../lib/targets/open-target.js';
import { gatedClient } from './gated-client.js';

const input = JSON.parse(process.env.DRIFTLESS_CRASH_INPUT ?? '{}') as {
  endpoint: string;
  table: string;
  github: string;
  registry: string;
  request: ReconcileRequest;
  ttlMs: number;
};
// Keeps the process alive while it hangs (the lease heartbeat's timer does not).
setInterval(() => undefined, 1000);
const registry = parseRegistry(input.registry);
const clusters = clusterClients(registry, async () => '', true);
await reconcileTarget(input.request, {
  ledger: new DynamoDbLedger(dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: input.endpoint }), input.table),
  source: new GitHubSource({ auth: { token: 'test-token' }, baseUrl: input.github }),
  registry,
  targets: targetOpener({
    registry,
    cluster: async (name) =>
      gatedClient(await clusters(name), async () => {
        process.stdout.write('applied\n');
        await new Promise(() => undefined);
      }),
  }),
  holder: 'crasher',
  leaseTtlMs: input.ttlMs,
});
