import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../lib/core/env-names.js';
import { pushPayload, REPO, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

type DriftHandler = (typeof import('../../functions/drift/handler.js'))['handler'];

const CONFIG = `version: 1
targets:
${['web:dev', 'api:prod', 'jobs:dev'].map((t) => `  - name: ${t.split(':')[0]}\n    path: deploy/${t.split(':')[0]}\n    cluster: ${t.split(':')[1]}\n    namespace: shop-${t.split(':')[0]}\n`).join('')}`;
const files = (name: string) => ({
  [`deploy/${name}/ns.yaml`]: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-${name}\n`,
  [`deploy/${name}/cm.yaml`]: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: "v1"\n`,
});
const RUN = '2026-12-03T07:00:00Z';
const context = { getRemainingTimeInMillis: () => 600_000 };

/**
 * The drift function as deployed: the schedule's event enqueues one message per target on SQS (mocked: what
 * SendMessageBatch receives is what the event source would deliver), and batches of the queue are checked by the
 * same handler against the local clusters and DynamoDB Local.
 */
describe('drift fan-out through the drift function and its queue', () => {
  let p: Pipeline;
  let handler: DriftHandler;
  const sqs = mockClient(SQSClient);
  const secrets = mockClient(SecretsManagerClient);
  const saved = { ...process.env };

  beforeAll(async () => {
    p = await startPipeline();
    const sha = p.commit({ 'driftless.yaml': CONFIG, ...files('web'), ...files('api'), ...files('jobs') });
    await p.deliver('push', pushPayload('0'.repeat(40), sha));
    // An edit outside Git on one target.
    await fetch(`${p.dev.url}/api/v1/namespaces/shop-web/configmaps/settings?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { value: 'edited' } }),
    });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'test-token' });
    Object.assign(process.env, {
      [ENV.table]: p.table,
      [ENV.registryJson]: JSON.stringify(p.registry),
      [ENV.reconcileFunction]: 'reconcile',
      [ENV.driftQueueUrl]: 'https://sqs.local/000000000000/drift.fifo',
      [ENV.driftPerCluster]: '2',
      [ENV.githubSecretId]: 'driftless/github',
      [ENV.githubApiUrl]: p.github.url,
      [ENV.dynamoDbEndpoint]: p.db.endpoint,
      [ENV.lambdaEndpoint]: p.invoke.url,
      AWS_REGION: 'local',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    vi.resetModules();
    ({ handler } = await import('../../functions/drift/handler.js'));
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    sqs.restore();
    secrets.restore();
    await p?.stop();
  });

  const sent = (): SendMessageBatchRequestEntry[] => sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
  const asRecords = (entries: SendMessageBatchRequestEntry[]) => entries.map((e, i) => ({ messageId: `m${i}`, body: String(e.MessageBody) }));

  it('enqueues one message per target on the schedule, grouped by cluster, instead of invoking itself', async () => {
    // WHEN the schedule fires
    const out = await handler({ time: RUN }, context);
    // THEN one batch of three messages, each naming its target, with its cluster as the FIFO group
    expect(out).toMatchObject({ enqueued: 3, removed: 0 });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
    expect(
      sent()
        .map((e) => [e.MessageAttributes?.target?.StringValue, e.MessageGroupId])
        .sort(),
    ).toEqual([
      [`${REPO}/api`, 'cluster:prod'],
      [`${REPO}/jobs`, 'cluster:dev'],
      [`${REPO}/web`, 'cluster:dev'],
    ]);
    expect(sent().map((e) => JSON.parse(String(e.MessageBody)).run)).toEqual([RUN, RUN, RUN]);
  });

  it('checks a batch of the queue: drift recorded at the run time, nothing left to retry', async () => {
    // WHEN the event source delivers the batch
    const out = await handler({ Records: asRecords(sent()) }, context);
    // THEN no failures; the edited target has new drift, the others are clean, all at the run's time
    expect(out).toEqual({ batchItemFailures: [] });
    expect(await p.ledger.latestDrift(`${REPO}/web`)).toMatchObject({ status: 'drifted', checkedAt: RUN });
    expect((await p.ledger.getState(`${REPO}/api`))?.drift).toMatchObject({ status: 'none', checkedAt: RUN });
    expect((await p.ledger.getState(`${REPO}/jobs`))?.drift).toMatchObject({ status: 'none', checkedAt: RUN });
  });

  it("lists a cluster's labelled objects once per run, not once per batch; a new run lists them again", async () => {
    const dev = sent().filter((e) => e.MessageGroupId === 'cluster:dev');
    const lists = async (entries: SendMessageBatchRequestEntry[]) => {
      p.dev.resetLog();
      await handler({ Records: asRecords(entries) }, context);
      return p.dev.counts().list ?? 0;
    };
    // GIVEN the first batch of the run on dev checked above, WHEN the queue delivers another batch of the same run
    const sameRun = await lists([dev[1] as SendMessageBatchRequestEntry]);
    // AND a batch of the next run
    const nextRun = await lists(dev.slice(1, 2).map((e) => ({ ...e, MessageBody: JSON.stringify({ ...JSON.parse(String(e.MessageBody)), run: '2026-12-04T12:00:00.000Z' }) })));
    // THEN only the next run lists every served kind again (a LIST per kind); the same run lists only the target's own namespace
    expect(nextRun - sameRun).toBeGreaterThan(20);
  });

  it('answers a check whose cluster cannot be reached as a batch item failure, for the queue to retry and dead-letter', async () => {
    // GIVEN the prod cluster gone
    await p.prod.stop();
    p.prod.stop = async () => undefined;
    // WHEN the batch is delivered again
    const records = asRecords(sent());
    const out = (await handler({ Records: records }, context)) as { batchItemFailures: { itemIdentifier: string }[] };
    // THEN only api's message comes back (its body and attribute name the target for the dead-letter queue)
    const failed = out.batchItemFailures.map((f) => JSON.parse(records.find((r) => r.messageId === f.itemIdentifier)?.body ?? '{}').targetId);
    expect(failed).toEqual([`${REPO}/api`]);
  });
});
