import { sign } from '@octokit/webhooks-methods';
import { dynamoDbClient } from '../lib/ledger/client.js';
import { DynamoDbLedger } from '../lib/ledger/dynamodb-ledger.js';
import { handleWebhook } from '../lib/reconcile/handle-webhook.js';
import { LEASE_TTL_MS } from '../lib/reconcile/lease.js';
import { reconcileTarget, type ReconcileOutcome } from '../lib/reconcile/reconcile-target.js';
import { DynamoDbFaultProxy } from '../test/faults/support/dynamodb-proxy.js';
import { pushPayload, REPO, SECRET, startPipeline } from '../test/support/pipeline.js';
import { median, ms } from './machine.js';

/**
 * Under faults: how fast the webhook answers with DynamoDB paused, dropping connections or throttling (the webhook
 * function's deadlines), and how long a target whose holder crashed mid-sync stays blocked with the real 60 s lease
 * while deliveries keep arriving every 5 s.
 */
export const benchFaults = async (): Promise<string> => {
  const p = await startPipeline();
  const proxy = new DynamoDbFaultProxy(p.db.endpoint);
  await proxy.start();
  // The webhook function's settings (lambdaRuntime('webhook') in functions/common/compose.ts).
  const client = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: proxy.url }, { requestTimeoutMs: 1500, maxAttempts: 3 });
  const webhookLedger = new DynamoDbLedger(client, p.table, Date.now, { callTimeoutMs: 3000 });
  try {
    const rows: string[] = [];
    const body = JSON.stringify(pushPayload('0'.repeat(40), 'a'.repeat(40)));
    for (const mode of ['pause', 'drop', 'throttle'] as const) {
      const times: number[] = [];
      let kind = '';
      for (let i = 0; i < 3; i++) {
        proxy.mode = mode;
        proxy.throttleLeft = Infinity;
        const t = performance.now();
        const out = await handleWebhook(
          { body, headers: { 'x-github-event': 'push', 'x-github-delivery': `bench-${mode}-${i}`, 'x-hub-signature-256': await sign(SECRET, body) } },
          { ...p.webhookDeps, ledger: webhookLedger, handOff: async () => undefined },
        );
        times.push(performance.now() - t);
        kind = out.kind;
        proxy.resume();
      }
      rows.push(
        `| webhook, DynamoDB ${mode === 'pause' ? 'paused' : mode === 'drop' ? 'dropping connections' : 'throttling every request'} | ${kind} (502) | ${ms(median(times))} |`,
      );
    }

    // A holder that took the lease, started its sync and died (no heartbeat, no result).
    const config = 'version: 1\ntargets:\n  - name: web\n    path: deploy/web\n    cluster: dev\n    namespace: shop-web\n';
    const head = p.commit({ 'driftless.yaml': config, 'deploy/web/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-web\n' });
    const id = `${REPO}/web`;
    const got = await p.ledger.acquireLease(id, 'crasher', LEASE_TTL_MS, { repository: REPO, target: 'web' });
    if (!('lease' in got)) throw new Error('no lease');
    await p.ledger.startSync(got.lease, { repository: REPO, target: 'web', commit: head, branch: 'main', startedAt: new Date().toISOString(), holder: 'crasher' });
    const crashed = performance.now();
    let out: ReconcileOutcome | undefined;
    let arrivals = 0;
    while (out?.kind !== 'done') {
      arrivals++;
      out = await reconcileTarget({ repository: REPO, target: 'web', branch: 'main', commit: head, trigger: 'webhook' }, { ...p.deps, holder: `arrival-${arrivals}` });
      if (out.kind === 'pending') await new Promise((r) => setTimeout(r, 5000));
    }
    const recovered = performance.now() - crashed;
    rows.push(
      `| crashed holder → target converged (60 s lease, 20 s heartbeat, a delivery every 5 s) | ${out.records.at(-1)?.result ?? 'done'} after ${arrivals} deliveries | ${ms(recovered)} |`,
    );
    return ['| scenario | answer | time (ms) |', '|---|---|---|', ...rows].join('\n');
  } finally {
    client.destroy();
    await proxy.stop();
    await p.stop();
  }
};
