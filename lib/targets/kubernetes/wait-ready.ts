/** Wait: poll applied objects until they are ready (CRDs Established, Namespaces Active, workloads healthy). */
import { mapLimit } from '../../core/map-limit.js';
import { formatRef } from '../../core/object-ref.js';
import { healthOf, type Health } from './health.js';
import { locationOf, withSignal, type PlannedObject, type SyncContext } from './sync-types.js';

/** Waits until every object is healthy or the wait times out; returns health per object (`Kind/ns/name`). */
export const waitHealthy = async (ctx: SyncContext, objects: readonly PlannedObject[], signal?: AbortSignal): Promise<Record<string, Health>> => {
  const { o } = ctx;
  const out: Record<string, Health> = {};
  const deadline = Date.now() + o.wait.timeoutMs;
  let pending = objects.filter((p) => p.info);
  while (pending.length) {
    const results = await mapLimit(pending, o.concurrency, async (p) => {
      const live = await ctx.client.get(locationOf(p), withSignal(signal));
      const h: Health = live ? healthOf(live) : { status: 'failed', message: 'object disappeared' };
      out[formatRef(p.ref)] = h;
      return h.status === 'in-progress';
    }).catch((err: unknown) => {
      // A read the cancellation cut short: the wait ends here, as timed out.
      if (signal?.aborted) return undefined;
      throw err;
    });
    if (!results) break;
    pending = pending.filter((_, i) => results[i]);
    if (!pending.length || Date.now() + o.pollMs > deadline || signal?.aborted) break;
    await pause(o.pollMs, signal);
    // Cancelled (shutdown, deadline): what is still pending ends as timed out, and the sync records what it applied.
    if (signal?.aborted) break;
  }
  for (const p of pending) {
    const h = out[formatRef(p.ref)];
    out[formatRef(p.ref)] = { status: 'in-progress', message: `timed out${h?.message ? `: ${h.message}` : ''}` };
  }
  return out;
};

/** Waits for CRDs to be Established and Namespaces Active; returns the ones that did not get there. */
export const waitEstablished = async (ctx: SyncContext, objects: readonly PlannedObject[], timeoutMs: number, signal?: AbortSignal): Promise<PlannedObject[]> => {
  if (!objects.length) return [];
  const deadline = Date.now() + timeoutMs;
  let pending = [...objects];
  for (;;) {
    const ready = await mapLimit(pending, ctx.o.concurrency, async (p) => {
      const live = p.info ? await ctx.client.get(locationOf(p), withSignal(signal)) : undefined;
      return live !== undefined && healthOf(live).status === 'ready';
    });
    pending = pending.filter((_, i) => !ready[i]);
    if (!pending.length || Date.now() > deadline || signal?.aborted) return pending;
    await pause(Math.min(ctx.o.pollMs, 500), signal);
    if (signal?.aborted) return pending;
  }
};

/** Waits `ms`, or less when `signal` aborts (a shutdown cancels health waits at once). */
const pause = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
