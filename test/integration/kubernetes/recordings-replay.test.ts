import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, KubeApiServer, loadRecording, RECORDINGS_DIR, type Recording } from '../../kube-api-server/server.js';

// Replays every recorded kube-apiserver exchange, in the recorded order, against the test API server and
// compares status, reason, causes and the shape of the body (uids, timestamps and resourceVersions aside).
// The recordings used field manager "gitops-reconciler"; the replay uses another name to prove it is a parameter.
const RECORDED_MANAGER = 'gitops-reconciler';
const MANAGER = 'driftless';

const order = readFileSync(join(RECORDINGS_DIR, 'README.md'), 'utf8')
  .split('\n')
  .map((l) => l.match(/^\| `([a-z0-9-]+\.json)`/)?.[1])
  .filter((f): f is string => Boolean(f));

const TOKENS: Record<string, string> = { 'forbidden-403.json': 'test-limited-token', 'unauthorized-401.json': 'wrong-token' };

const swapManager = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replaceAll(RECORDED_MANAGER, MANAGER));

/** The shape of a value: its keys and types, recursively; values themselves are left out. */
const shape = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, shape((v as Record<string, unknown>)[k])]),
    );
  }
  return v === null ? 'null' : typeof v;
};

describe('test API server replays the recorded kube-apiserver responses', () => {
  const server = new KubeApiServer();
  beforeAll(async () => {
    await server.start();
    // The recordings ran against a server where these namespaces already existed.
    server.createNamespace('rig-rec');
    server.createNamespace('rig-doomed');
  });
  afterAll(() => server.stop());

  it('covers every recording', () => {
    expect(order.length).toBe(34);
  });

  it.each(order)('%s', async (file) => {
    // GIVEN a recorded exchange
    const rec = swapManager(loadRecording(file)) as Recording;
    // WHEN its request is sent to the test server
    const res = await fetch(`${server.url}${rec.request.path}`, {
      method: rec.request.method,
      headers: {
        accept: rec.request.accept ?? 'application/json',
        authorization: `Bearer ${TOKENS[file] ?? ADMIN_TOKEN}`,
        ...(rec.request.contentType ? { 'content-type': rec.request.contentType } : {}),
      },
      ...(rec.request.body !== undefined ? { body: rec.request.body } : {}),
    });
    // THEN status, reason, causes and shape agree
    expect(res.status).toBe(rec.response.status);
    expect(res.headers.get('content-type')).toBe(rec.response.contentType);
    const text = await res.text();
    if (typeof rec.response.body === 'string') {
      expect(text).toBe(rec.response.body);
      return;
    }
    const body = JSON.parse(text) as Record<string, unknown>;
    const want = rec.response.body as Record<string, unknown>;
    expect(body.reason).toBe(want.reason);
    const causes = (b: Record<string, unknown>) =>
      ((b.details as { causes?: { reason: string; field: string; message: string }[] } | undefined)?.causes ?? []).map((c) => ({
        reason: c.reason,
        field: c.field,
        ...(c.reason === 'FieldManagerConflict' || c.reason === 'FieldValueRequired' || c.reason === 'NamespaceTerminating' ? { message: c.message } : {}),
      }));
    expect(causes(body)).toEqual(causes(want));
    expect(shape(body)).toEqual(shape(want));
    if (want.kind !== 'Status' && !String(want.kind).endsWith('List') && !file.startsWith('discovery') && file !== 'version.json') {
      // Objects: the values that matter match too (spec, labels, managers and their fields).
      const pick = (o: Record<string, unknown>) => {
        const m = o.metadata as Record<string, unknown>;
        return {
          spec: o.spec,
          data: o.data,
          labels: m.labels,
          generation: m.generation,
          managed: (m.managedFields as Record<string, unknown>[] | undefined)?.map((e) => [e.manager, e.operation, e.fieldsV1]),
        };
      };
      expect(pick(body)).toEqual(pick(want));
    }
  });
});
