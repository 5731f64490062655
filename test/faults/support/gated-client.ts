import type { KubeObject } from '../../../lib/core/object-ref.js';
import type { KubeClient } from '../../../lib/targets/kubernetes/kube-client.js';

/** A KubeClient whose writes (not dry runs) call `after` once they returned: a test can act between two writes. */
export const gatedClient = (client: KubeClient, after: (obj: KubeObject) => Promise<void>): KubeClient =>
  new Proxy(client, {
    get(target, prop) {
      if (prop === 'apply') {
        return async (...args: Parameters<KubeClient['apply']>) => {
          const res = await target.apply(...args);
          if (!args[2]?.dryRun) await after(args[1]);
          return res;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
