import { describe, expect, it } from 'vitest';
import { parseRegistry } from '../../../lib/config/load-config.js';
import { compose } from '../../../functions/common/compose.js';
import { webhookRuntime } from '../../../functions/webhook/compose-runtime.js';
import type { FunctionConfig } from '../../../functions/common/config.js';

const config = (secretIds: FunctionConfig['secretIds']): FunctionConfig => ({
  table: 'driftless-ledger',
  registry: parseRegistry(JSON.stringify({ repositories: {}, clusters: {} })),
  reconcileFunction: 'driftless-reconcile',
  secretIds,
});

const reader = (values: Record<string, string>) => async (id: string) => {
  if (id in values) return values[id] as string;
  throw new Error(`secret ${id}: cannot be read: ThrottlingException`);
};

/** The webhook's deps as the deployed function composes them. */
const webhook = (c: FunctionConfig, read: (id: string) => Promise<string>) => compose(webhookRuntime(c, read)).webhook;

describe('the webhook runtime: secrets', () => {
  it('reads the current and the previous webhook secret', async () => {
    const deps = webhook(config({ webhook: 'cur', webhookPrevious: 'prev' }), reader({ cur: 'one', prev: 'two' }));
    expect(await deps.secrets()).toEqual(['one', 'two']);
  });

  it('treats an unreadable previous secret as absent: it only matters during a rotation', async () => {
    const deps = webhook(config({ webhook: 'cur', webhookPrevious: 'prev' }), reader({ cur: 'one' }));
    expect(await deps.secrets()).toEqual(['one', '']);
  });

  it('fails when the current secret cannot be read, rather than refusing every delivery as unsigned', async () => {
    const deps = webhook(config({ webhook: 'cur' }), reader({}));
    await expect(deps.secrets()).rejects.toThrow(/secret cur: cannot be read/);
  });

  it('fails when no webhook secret is configured', async () => {
    const deps = webhook(config({}), reader({}));
    await expect(deps.secrets()).rejects.toThrow(/DRIFTLESS_WEBHOOK_SECRET_ID is required/);
  });
});
