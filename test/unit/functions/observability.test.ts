import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ReconcileOutcome, ReconcileRequest } from '../../../lib/reconcile/reconcile-target.js';
import type { SyncRecord } from '../../../lib/ledger/ledger.js';

type Observability = typeof import('../../../functions/common/observability.js');
let o: Observability;

// The environment the stack gives a function (infra/constructs/reconciler-function.ts), before the module loads.
beforeAll(async () => {
  vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'driftless-reconcile');
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'driftless');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
  vi.stubEnv('POWERTOOLS_DEV', '');
  vi.resetModules();
  o = await import('../../../functions/common/observability.js');
});

/** Every JSON line the functions write on stdout and stderr while a test runs. */
let stdout: string[] = [];
let stderr: string[] = [];
beforeEach(() => {
  stdout = [];
  stderr = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => {
    into.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture(stdout));
  vi.spyOn(process.stderr, 'write').mockImplementation(capture(stderr));
});
afterEach(() => vi.restoreAllMocks());

const json = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, any>);
const logLines = (lines: string[]) => json(lines).filter((l) => !l._aws);
/** EMF lines: the metric names and dimension sets they declare, and their values. */
const emf = (lines: string[]) =>
  json(lines)
    .filter((l) => l._aws)
    .map((l) => {
      const d = l._aws.CloudWatchMetrics[0];
      return { namespace: d.Namespace as string, metrics: (d.Metrics as { Name: string; Unit: string }[]).map((m) => m.Name), dimensions: d.Dimensions as string[][], line: l };
    });

const request: ReconcileRequest = { repository: 'acme/shop', target: 'web', branch: 'main', commit: 'a'.repeat(40), deliveryId: 'delivery-1', trigger: 'webhook' };
const context = { awsRequestId: 'request-1', functionName: 'driftless-reconcile', getRemainingTimeInMillis: () => 60_000 };
const record = (result: SyncRecord['result']): SyncRecord => ({
  targetId: 'acme/shop/web',
  repository: 'acme/shop',
  target: 'web',
  syncId: `s-${result}`,
  commit: 'a'.repeat(40),
  branch: 'main',
  startedAt: '2026-01-01T00:00:00Z',
  result,
});

describe('observed (the handler wrapper)', () => {
  it('logs with the delivery id, target and commit as keys, and flushes syncs by outcome and failures as EMF', async () => {
    const handler = o.observed(
      o.reconcileKeys,
      async (_event: ReconcileRequest, _context: typeof context): Promise<ReconcileOutcome> => {
        o.log('applied', { objects: 3 });
        return { kind: 'done', records: [record('succeeded'), record('failed'), record('succeeded')], untouched: 0, unchanged: 0 };
      },
      o.measureReconcile,
    );
    const out = await handler(request, context);
    expect(out.kind).toBe('done');

    const [line, ...others] = logLines(stdout);
    expect(others).toEqual([]);
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'applied',
      service: 'driftless-reconcile',
      deliveryId: 'delivery-1',
      target: 'acme/shop/web',
      commit: 'a'.repeat(40),
      objects: 3,
      function_request_id: 'request-1',
      function_name: 'driftless-reconcile',
    });

    const metrics = emf(stdout);
    expect(metrics.every((m) => m.namespace === 'driftless')).toBe(true);
    const syncs = metrics.filter((m) => m.metrics.includes('Syncs'));
    expect(syncs.map((m) => m.dimensions)).toEqual([[['service', 'outcome']], [['service', 'outcome']]]);
    expect(syncs.map((m) => [m.line.outcome, m.line.Syncs, m.line.service])).toEqual([
      ['succeeded', 2, 'driftless-reconcile'],
      ['failed', 1, 'driftless-reconcile'],
    ]);
    const failures = metrics.filter((m) => m.metrics.includes('SyncFailures'));
    expect(failures).toHaveLength(1);
    expect(failures[0]?.dimensions).toEqual([['service']]);
    expect(failures[0]?.line.SyncFailures).toBe(1);
  });

  it('clears the keys at the end of an invocation: the next one carries only its own', async () => {
    const handler = o.observed(o.reconcileKeys, async () => o.log('tick'));
    await handler(request, context);
    await handler({ repository: 'acme/shop', target: 'api', branch: 'main', trigger: 'sweeper' }, { ...context, awsRequestId: 'request-2' });
    const [first, second] = logLines(stdout);
    expect(first).toMatchObject({ deliveryId: 'delivery-1', target: 'acme/shop/web' });
    expect(second).toMatchObject({ target: 'acme/shop/api', function_request_id: 'request-2' });
    expect(second).not.toHaveProperty('deliveryId');
    expect(second).not.toHaveProperty('commit');
    // Nothing measured: no metrics line, and no Powertools warning about empty metrics either.
    expect(emf(stdout)).toEqual([]);
    expect(stderr).toEqual([]);
  });

  it('keeps the keys and counts of overlapping invocations apart (serve runs the handlers in one process)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handler = o.observed(
      o.reconcileKeys,
      async (event: ReconcileRequest): Promise<ReconcileOutcome> => {
        if (event.target === 'web') await gate;
        o.log('converged');
        return { kind: 'done', records: [record(event.target === 'web' ? 'succeeded' : 'failed')], untouched: 0, unchanged: 0 };
      },
      o.measureReconcile,
    );
    const web = handler(request, context);
    const api = handler({ ...request, target: 'api', deliveryId: 'delivery-9', commit: 'b'.repeat(40) }, { ...context, awsRequestId: 'request-9' });
    await api;
    release();
    await web;
    expect(logLines(stdout).map((l) => [l.target, l.deliveryId, l.commit])).toEqual([
      ['acme/shop/api', 'delivery-9', 'b'.repeat(40)],
      ['acme/shop/web', 'delivery-1', 'a'.repeat(40)],
    ]);
    expect(emf(stdout).map((m) => [m.metrics.join(), m.line.outcome ?? '', m.line.Syncs ?? m.line.SyncFailures])).toEqual([
      ['Syncs', 'failed', 1],
      ['SyncFailures', '', 1],
      ['Syncs', 'succeeded', 1],
    ]);
  });

  it('counts webhook outcomes by kind, with the delivery id from the request headers', async () => {
    const handler = o.observed(o.webhookKeys, async (_event: { headers: Record<string, string> }) => {
      o.measureWebhook({ kind: 'accepted', targets: ['acme/shop/web'] });
      o.measureWebhook({ kind: 'duplicate', reason: 'delivery delivery-2 was handled before' });
      return { statusCode: 202 };
    });
    await handler({ headers: { 'X-GitHub-Delivery': 'delivery-2' } }, undefined);
    const lines = logLines(stdout);
    expect(lines.map((l) => [l.message, l.outcome, l.deliveryId])).toEqual([
      ['webhook delivery', 'accepted', 'delivery-2'],
      ['webhook delivery', 'duplicate', 'delivery-2'],
    ]);
    expect(lines[0]?.targets).toEqual(['acme/shop/web']);
    const outcomes = emf(stdout).filter((m) => m.metrics.includes('WebhookOutcomes'));
    expect(outcomes.map((m) => [m.dimensions, m.line.kind, m.line.WebhookOutcomes])).toEqual([
      [[['service', 'kind']], 'accepted', 1],
      [[['service', 'kind']], 'duplicate', 1],
    ]);
  });

  it('counts drift checks, targets with drift and failed checks in one line', async () => {
    const drifted = { targetId: 'acme/shop/web', suspended: false, healed: false, report: { target: 'acme/shop/web', checkedAt: 'x', objects: [{}], fingerprint: 'f' } };
    const clean = { targetId: 'acme/shop/api', suspended: false, healed: false, report: { target: 'acme/shop/api', checkedAt: 'x', objects: [], fingerprint: '' } };
    const handler = o.observed(
      () => ({}),
      async () => o.measureDriftChecks({ checks: [drifted, clean] as never, changes: [], failures: [{ error: 'unreachable' }] as never, posted: false }),
    );
    await handler({ Records: [] }, context);
    const [line, ...others] = emf(stdout);
    expect(others).toEqual([]);
    expect(line?.dimensions).toEqual([['service']]);
    expect([line?.line.DriftChecks, line?.line.DriftFound, line?.line.DriftCheckFailures]).toEqual([2, 1, 1]);
  });

  it('counts and logs a throw, then rethrows it', async () => {
    const handler = o.observed(o.reconcileKeys, async () => {
      throw new Error('ledger unreachable');
    });
    await expect(handler(request, context)).rejects.toThrow('ledger unreachable');
    const [error] = logLines(stderr);
    expect(error).toMatchObject({ level: 'ERROR', message: 'invocation failed', error: 'ledger unreachable', target: 'acme/shop/web', deliveryId: 'delivery-1' });
    const [failure] = emf(stdout);
    expect(failure?.metrics).toEqual(['InvocationFailures']);
    expect(failure?.line.InvocationFailures).toBe(1);
  });
});

describe('secret values', () => {
  it('never reach a log line once read through Secrets Manager: whole values and the fields of a JSON secret', async () => {
    const { secretsManager } = await import('../../../functions/common/secrets.js');
    const values: Record<string, string> = {
      webhook: 'webhook-secret-value-1',
      github: JSON.stringify({ appId: '12345', privateKey: '-----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA' }),
    };
    const client = { send: async (cmd: { input: { SecretId: string } }) => ({ SecretString: values[cmd.input.SecretId] }) };
    const read = secretsManager(client as never);
    await read('webhook');
    await read('github');
    const handler = o.observed(o.webhookKeys, async () => {
      o.log('verifying', { secret: 'webhook-secret-value-1', nested: { note: 'key -----BEGIN RSA PRIVATE KEY-----MIIEpAIBAAKCAQEA in an error' } });
      o.logError('failed with webhook-secret-value-1');
    });
    await handler({ headers: {} }, context);
    const all = [...stdout, ...stderr].join('\n');
    expect(all).not.toContain('webhook-secret-value-1');
    expect(all).not.toContain('MIIEpAIBAAKCAQEA');
    const [info] = logLines(stdout);
    expect(info).toMatchObject({ message: 'verifying', secret: '[redacted]', nested: { note: 'key [redacted] in an error' } });
    expect(logLines(stderr)[0]?.message).toBe('failed with [redacted]');
  });
});
