import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { TargetCheck } from '../../../lib/drift/check-target.js';
import type { DriftNotice } from '../../../lib/notify/notifier.js';
import { checkDriftMessages, driftGroup, enqueueDrift, InProcessDriftQueue, type DriftMessage } from '../../../lib/drift/run-drift.js';
import { SqsDriftQueue } from '../../../lib/queue/sqs-drift-queue.js';
import { batchItemFailures, driftMessageOf } from '../../../functions/drift/sqs-batch.js';
import type { DriftRecord, DriftStatus, Ledger, TargetState } from '../../../lib/ledger/ledger.js';

const RUN = '2026-12-03T06:45:00Z';
const state = (i: number, extra: Partial<TargetState> = {}): TargetState => ({
  targetId: `acme/shop/t${i}`,
  repository: 'acme/shop',
  target: `t${i}`,
  suspended: false,
  inventory: [],
  dependencies: [],
  config: { type: 'kubernetes', branch: 'main', cluster: `c${i % 3}` },
  lastAppliedCommit: 'a'.repeat(40),
  ...extra,
});

/** The slice of the ledger the drift run and its consumer use, in memory. */
class DriftLedger {
  readonly drift = new Map<string, DriftRecord>();
  readonly checked = new Map<string, { status: DriftStatus; checkedAt: string }>();
  constructor(readonly targets: TargetState[]) {}
  async listTargets() {
    return this.targets;
  }
  async latestDrift(id: string) {
    return this.drift.get(id);
  }
  async putDrift(r: DriftRecord) {
    this.drift.set(r.targetId, r);
  }
  async markDriftChecked(id: string, s: { status: DriftStatus; checkedAt: string }) {
    this.checked.set(id, s);
  }
}

const clean = async (targetId: string): Promise<TargetCheck> => ({
  targetId,
  suspended: false,
  healed: false,
  report: { target: targetId, checkedAt: '', objects: [], fingerprint: '' },
});

describe('enqueueDrift', () => {
  it('enqueues one message per target, grouped by cluster or stack region, and reports removed targets itself', async () => {
    // GIVEN 5 targets on 3 clusters, a stack target and a removed target
    const ledger = new DriftLedger([
      ...Array.from({ length: 5 }, (_, i) => state(i)),
      state(9, { config: { type: 'cloudformation', branch: 'main', region: 'eu-west-1', stack: 'acme-vpc' } }),
      state(10, { removed: true }),
    ]);
    const queue = new InProcessDriftQueue();
    // WHEN the scheduled run enqueues
    const out = await enqueueDrift({ ledger: ledger as unknown as Ledger, queue, run: RUN });
    // THEN 6 messages with the run's time, the removed target reported (once) and not enqueued
    expect(out.enqueued).toBe(6);
    expect(queue.messages.map((m) => m.group)).toEqual(['cluster:c0', 'cluster:c1', 'cluster:c2', 'cluster:c0', 'cluster:c1', 'stack:eu-west-1']);
    expect(queue.messages.every((m) => m.run === RUN)).toBe(true);
    expect(out.changes.map((c) => [c.check.targetId, c.change])).toEqual([['acme/shop/t10', 'removed']]);
    expect(ledger.checked.get('acme/shop/t10')).toEqual({ status: 'removed', checkedAt: RUN });
  });

  it('groups a target without a recorded cluster by itself', () => {
    expect(driftGroup({ targetId: 'acme/shop/x', config: undefined })).toBe('target:acme/shop/x');
  });
});

describe('checkDriftMessages', () => {
  const messages = (n: number, groups = 2): DriftMessage[] => Array.from({ length: n }, (_, i) => ({ run: RUN, targetId: `acme/shop/t${i}`, group: `cluster:c${i % groups}` }));

  it('keeps at most perCluster checks in flight per cluster, and concurrency in all', async () => {
    // GIVEN 12 messages over 2 clusters, a cap of 2 per cluster and 8 in all
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    let total = 0;
    let peakTotal = 0;
    const check = async (id: string) => {
      const group = `cluster:c${Number(id.slice(-1)) % 2}`;
      inFlight.set(group, (inFlight.get(group) ?? 0) + 1);
      total++;
      peak.set(group, Math.max(peak.get(group) ?? 0, inFlight.get(group) ?? 0));
      peakTotal = Math.max(peakTotal, total);
      await new Promise((r) => setTimeout(r, 5));
      inFlight.set(group, (inFlight.get(group) ?? 0) - 1);
      total--;
      return clean(id);
    };
    // WHEN they are checked
    const out = await checkDriftMessages(messages(12), { ledger: new DriftLedger([]) as unknown as Ledger, check, concurrency: 8, perCluster: 2 });
    // THEN every target was checked, never more than 2 per cluster, 4 in all (2 clusters × 2)
    expect(out.checks).toHaveLength(12);
    expect(Math.max(...peak.values())).toBe(2);
    expect(peakTotal).toBe(4);
  });

  it('returns failed checks for the queue to retry, records the others, and posts one message for the changes', async () => {
    // GIVEN one unreachable cluster, one drifted target and one never applied
    const ledger = new DriftLedger([]);
    const posts: (readonly DriftNotice[])[] = [];
    const check = async (id: string): Promise<TargetCheck> => {
      if (id.endsWith('t1')) throw new Error('connect ECONNREFUSED 10.0.0.1:443');
      if (id.endsWith('t2')) return { targetId: id, suspended: false, healed: false, error: 'never applied' };
      if (id.endsWith('t3')) {
        return {
          targetId: id,
          suspended: false,
          healed: false,
          report: { target: id, checkedAt: '', objects: [{ ref: { group: '', kind: 'ConfigMap', namespace: 'n', name: 'x' }, state: 'missing' }], fingerprint: 'f1' },
        };
      }
      return clean(id);
    };
    // WHEN the batch is checked
    const out = await checkDriftMessages(messages(4), { ledger: ledger as unknown as Ledger, check, notifier: { drift: async (c) => void posts.push(c) } });
    // THEN t1 fails (named, with its error), t2 is not a failure, t3 is new drift recorded at the run's time
    expect(out.failures.map((f) => [f.message.targetId, f.error])).toEqual([['acme/shop/t1', 'connect ECONNREFUSED 10.0.0.1:443']]);
    expect(out.changes.map((c) => [c.check.targetId, c.change])).toEqual([['acme/shop/t3', 'new']]);
    expect(ledger.drift.get('acme/shop/t3')).toMatchObject({ status: 'drifted', checkedAt: RUN, fingerprint: 'f1' });
    expect(ledger.checked.get('acme/shop/t0')).toEqual({ status: 'none', checkedAt: RUN });
    expect(ledger.checked.has('acme/shop/t1')).toBe(false);
    expect(posts.map((p) => p.map((c) => c.check.targetId))).toEqual([['acme/shop/t3']]);
    expect(out.posted).toBe(true);
  });
});

describe('the drift queue on SQS', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());
  const message = (i: number): DriftMessage => ({ run: RUN, targetId: `acme/shop/t${i}`, group: `cluster:c${i % 3}` });

  it('sends batches of 10 with the cluster as message group, a deduplication id per (run, target) and the target attribute', async () => {
    // GIVEN 23 messages WHEN they are sent
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    await new SqsDriftQueue(sqs as unknown as SQSClient, 'https://sqs/q.fifo').send(Array.from({ length: 23 }, (_, i) => message(i)));
    // THEN 3 batches: 10, 10, 3
    const calls = sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Entries?.length)).toEqual([10, 10, 3]);
    const first = calls[0]?.Entries?.[1];
    expect(first).toMatchObject({ MessageGroupId: 'cluster:c1', MessageAttributes: { target: { DataType: 'String', StringValue: 'acme/shop/t1' } } });
    expect(JSON.parse(String(first?.MessageBody))).toEqual(message(1));
    expect(first?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    // The same run and target always deduplicate; another run does not.
    const ids = new Set(calls.flatMap((c) => c.Entries ?? []).map((e) => e.MessageDeduplicationId));
    expect(ids.size).toBe(23);
  });

  it('sends refused entries once more, and fails naming the targets refused twice', async () => {
    // GIVEN SQS refusing entry 1 twice and entry 2 once
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Failed: [
          { Id: '1', Code: 'ThrottlingException', SenderFault: false },
          { Id: '2', Code: 'ThrottlingException', SenderFault: false },
        ],
      })
      .resolvesOnce({ Failed: [{ Id: '1', Code: 'ThrottlingException', SenderFault: false }] });
    // WHEN 3 messages are sent THEN the error names t1 only
    await expect(new SqsDriftQueue(sqs as unknown as SQSClient, 'https://sqs/q.fifo').send([message(0), message(1), message(2)])).rejects.toThrow(
      'drift queue: 1 target(s) not enqueued: acme/shop/t1',
    );
    expect(sqs.commandCalls(SendMessageBatchCommand)[1]?.args[0].input.Entries?.map((e) => e.Id)).toEqual(['1', '2']);
  });

  it('reads messages back from event records, and answers the failed and unreadable ones as batch item failures', () => {
    const records = [message(0), message(1)].map((m, i) => ({ messageId: `m${i}`, body: JSON.stringify(m) }));
    records.push({ messageId: 'm2', body: 'not json' });
    const parsed = records.map((r) => {
      try {
        return driftMessageOf(r);
      } catch {
        return undefined;
      }
    });
    expect(parsed[0]).toEqual(message(0));
    expect(() => driftMessageOf({ messageId: 'm9', body: '{"run":"x"}' })).toThrow('drift message m9: expected run, targetId and group');
    const out = batchItemFailures(records, parsed, [{ message: parsed[1] as DriftMessage, error: 'unreachable' }]);
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
  });
});
