import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_ACCESS, type LedgerAccess } from '../../infra/constructs/ledger-access.js';
import { checkTarget } from '../../lib/drift/check-target.js';
import { runDrift } from '../../lib/drift/run-drift.js';
import { sweep } from '../../lib/drift/sweep.js';
import { dynamoDbClient } from '../../lib/ledger/client.js';
import { DynamoDbLedger } from '../../lib/ledger/dynamodb-ledger.js';
import type { Ledger } from '../../lib/ledger/ledger.js';
import { pushPayload, startPipeline } from '../support/pipeline.js';
import type { Pipeline } from '../support/manifests.js';

/**
 * The IAM grants of infra/constructs/ledger-access.ts against what each function's code really sends: the
 * webhook, reconcile and drift paths run on DynamoDB Local through ledgers whose clients record every operation,
 * with the index and the partition keys it touches.
 */
interface Call {
  readonly action: string;
  readonly index?: string;
  readonly keys: string[];
}
/** Attribute values, native or marshalled (depending on where in the stack the middleware sees them). */
type Av = Record<string, string | { S?: string } | undefined>;
const str = (v: string | { S?: string } | undefined): string | undefined => (typeof v === 'string' ? v : v?.S);

const itemAction: Record<string, string> = { Put: 'dynamodb:PutItem', Update: 'dynamodb:UpdateItem', Delete: 'dynamodb:DeleteItem', ConditionCheck: 'dynamodb:ConditionCheckItem' };

/** The IAM actions and keys of one DynamoDB request (a transaction is its parts, as IAM authorises it). */
const callsOf = (command: string, input: Record<string, unknown>): Call[] => {
  const pk = (av: Av | undefined) => str(av?.PK) ?? '(none)';
  switch (command) {
    case 'TransactWriteItemsCommand':
      return (input.TransactItems as Record<string, { Key?: Av; Item?: Av }>[]).map((t) => {
        const [kind, body] = Object.entries(t)[0] as [string, { Key?: Av; Item?: Av }];
        return { action: itemAction[kind] ?? kind, keys: [pk(body.Key ?? body.Item)] };
      });
    case 'QueryCommand': {
      const values = input.ExpressionAttributeValues as Av;
      return [{ action: 'dynamodb:Query', ...(input.IndexName ? { index: String(input.IndexName) } : {}), keys: [str(values[':pk']) ?? '(none)'] }];
    }
    case 'BatchGetItemCommand':
      return [{ action: 'dynamodb:BatchGetItem', keys: Object.values(input.RequestItems as Record<string, { Keys: Av[] }>).flatMap((r) => r.Keys.map(pk)) }];
    default:
      return [{ action: `dynamodb:${command.replace(/Command$/, '')}`, keys: [pk((input.Key ?? input.Item) as Av)] }];
  }
};

/** Calls the grant does not allow: an action not listed, a key outside the prefixes, an index not granted. */
const outside = (calls: readonly Call[], access: LedgerAccess): Call[] =>
  calls.filter((c) =>
    c.index !== undefined
      ? c.action !== 'dynamodb:Query' || !(access.indexes as readonly string[]).includes(c.index)
      : !access.actions.includes(c.action) || !c.keys.every((k) => access.leadingKeys.some((p) => k.startsWith(p.replace(/\*$/, '')))),
  );

describe('ledger access of each function, from the calls its code makes', () => {
  let p: Pipeline;
  const clients: DynamoDBClient[] = [];
  const recorded: Record<'webhook' | 'reconcile' | 'drift', Call[]> = { webhook: [], reconcile: [], drift: [] };
  const recordingLedger = (fn: keyof typeof recorded): Ledger => {
    const client = dynamoDbClient({ AWS_ENDPOINT_URL_DYNAMODB: p.db.endpoint });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        recorded[fn].push(...callsOf(String(context.commandName), args.input as Record<string, unknown>));
        return next(args);
      },
      { step: 'initialize', name: 'recordLedgerCalls' },
    );
    clients.push(client);
    return new DynamoDbLedger(client, p.table);
  };

  beforeAll(async () => {
    p = await startPipeline();
    (p.webhookDeps as { ledger: unknown }).ledger = recordingLedger('webhook');
    (p.deps as { ledger: unknown }).ledger = recordingLedger('reconcile');
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  value: "${v}"\n`;
    const first = p.commit({
      'driftless.yaml': 'version: 1\ntargets:\n  - name: web\n    path: deploy\n    cluster: dev\n    namespace: shop-web\n',
      'deploy/ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop-web\n',
      'deploy/cm.yaml': cm('v1'),
    });
    await p.deliver('push', pushPayload('0'.repeat(40), first));
    const second = p.commit({ 'deploy/cm.yaml': cm('v2') });
    await p.deliver('push', pushPayload(first, second, 'main', undefined, ['deploy/cm.yaml']));
    // Drift: an edit outside Git, then the scheduled run (sweeper, one check per target, the report).
    await fetch(`${p.dev.url}/api/v1/namespaces/shop-web/configmaps/settings?fieldManager=kubectl-edit`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer test-admin-token', 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { value: 'edited' } }),
    });
    const drift = recordingLedger('drift');
    await sweep({ ledger: drift, source: p.source, registry: p.registry, handOff: async () => undefined });
    const run = await runDrift({ ledger: drift, check: (id) => checkTarget(id, { ...p.deps, ledger: drift }) });
    expect(run.changes.map((c) => c.change)).toEqual(['new']);
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await p?.stop();
  });

  it.each(['webhook', 'reconcile', 'drift'] as const)('%s sends only what its grant allows', (fn) => {
    expect(recorded[fn].length).toBeGreaterThan(0);
    expect(outside(recorded[fn], LEDGER_ACCESS[fn])).toEqual([]);
  });

  it('exercises the actions each grant lists (no action granted for nothing, but chunk reads of huge items)', () => {
    const used = (fn: keyof typeof recorded) => [...new Set(recorded[fn].filter((c) => !c.index).map((c) => c.action))].sort();
    const indexes = (fn: keyof typeof recorded) => [...new Set(recorded[fn].flatMap((c) => (c.index ? [c.index] : [])))].sort();
    // BatchGetItem reads inventory and change-set chunks, which only items over 350 KB have; ConditionCheckItem fences a
    // transaction with no state update, which the sync's running marker makes rare (not reached by this exercise).
    const rare = new Set(['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem']);
    const granted = (fn: keyof typeof recorded) => LEDGER_ACCESS[fn].actions.filter((a) => !rare.has(a)).sort();
    for (const fn of ['webhook', 'reconcile', 'drift'] as const) {
      expect(used(fn)).toEqual(granted(fn));
      expect(indexes(fn)).toEqual([...LEDGER_ACCESS[fn].indexes].sort());
    }
  });

  it('finds a call outside a grant', () => {
    expect(outside([{ action: 'dynamodb:Scan', keys: [] }], LEDGER_ACCESS.webhook)).toHaveLength(1);
    expect(outside([{ action: 'dynamodb:GetItem', keys: ['T#acme/shop/web'] }], LEDGER_ACCESS.webhook)).toHaveLength(1);
    expect(outside([{ action: 'dynamodb:Query', index: 'GSI1', keys: ['TARGETS#0'] }], LEDGER_ACCESS.webhook)).toHaveLength(1);
  });
});
