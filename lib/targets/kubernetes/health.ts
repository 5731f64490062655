import type { KubeObject } from '../../core/object-ref.js';
import type { Obj } from '../../core/plain-object.js';

/** Readiness of one object after apply. */
export interface Health {
  readonly status: 'ready' | 'in-progress' | 'failed';
  readonly message?: string;
}

const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);
const conditions = (status: Obj): Obj[] => (Array.isArray(status.conditions) ? (status.conditions as Obj[]) : []);
const condition = (status: Obj, type: string): Obj | undefined => conditions(status).find((c) => c.type === type);

/** kstatus-like readiness rules for the kinds a rollout is waited on. */
export const healthOf = (obj: KubeObject): Health => {
  const status = (obj.status ?? {}) as Obj;
  const spec = (obj.spec ?? {}) as Obj;
  const meta = (obj.metadata ?? {}) as Obj;
  const generation = num(meta.generation);
  const observed = num(status.observedGeneration, -1);
  const stale = generation > 0 && observed < generation;
  switch (obj.kind) {
    case 'Deployment': {
      const progressing = condition(status, 'Progressing');
      if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
        return { status: 'failed', message: String(progressing.message ?? 'progress deadline exceeded') };
      }
      if (stale) return { status: 'in-progress', message: 'waiting for the controller to observe the new generation' };
      const want = num(spec.replicas, 1);
      const updated = num(status.updatedReplicas);
      const available = num(status.availableReplicas);
      const total = num(status.replicas);
      if (updated < want) return { status: 'in-progress', message: `${updated} of ${want} replicas updated` };
      if (total > updated) return { status: 'in-progress', message: `${total - updated} old replicas pending termination` };
      if (available < want) return { status: 'in-progress', message: `${available} of ${want} replicas available` };
      return { status: 'ready', message: `${available} replicas available` };
    }
    case 'StatefulSet': {
      if (stale) return { status: 'in-progress', message: 'waiting for the controller to observe the new generation' };
      const want = num(spec.replicas, 1);
      const ready = num(status.readyReplicas);
      const updated = num(status.updatedReplicas);
      const strategy = (spec.updateStrategy as Obj | undefined)?.type ?? 'RollingUpdate';
      if (ready < want) return { status: 'in-progress', message: `${ready} of ${want} replicas ready` };
      if (strategy === 'RollingUpdate' && (updated < want || status.currentRevision !== status.updateRevision)) {
        return { status: 'in-progress', message: `${updated} of ${want} replicas updated` };
      }
      return { status: 'ready', message: `${ready} replicas ready` };
    }
    case 'DaemonSet': {
      if (stale) return { status: 'in-progress', message: 'waiting for the controller to observe the new generation' };
      const want = num(status.desiredNumberScheduled);
      const updated = num(status.updatedNumberScheduled);
      const available = num(status.numberAvailable);
      if (updated < want || available < want) return { status: 'in-progress', message: `${available} of ${want} pods available` };
      return { status: 'ready', message: `${available} pods available` };
    }
    case 'Job': {
      if (condition(status, 'Failed')?.status === 'True') {
        return { status: 'failed', message: String(condition(status, 'Failed')?.message ?? 'job failed') };
      }
      if (condition(status, 'Complete')?.status === 'True') return { status: 'ready', message: 'complete' };
      return { status: 'in-progress', message: `${num(status.succeeded)} succeeded, ${num(status.active)} active` };
    }
    case 'CustomResourceDefinition':
      return condition(status, 'Established')?.status === 'True' ? { status: 'ready', message: 'established' } : { status: 'in-progress', message: 'waiting to be established' };
    case 'Namespace':
      return status.phase === 'Active' || status.phase === undefined
        ? { status: 'ready', message: 'active' }
        : { status: 'failed', message: `namespace is ${String(status.phase)}` };
    default: {
      const ready = condition(status, 'Ready');
      if (ready) {
        if (ready.status === 'True') return { status: 'ready', message: String(ready.message ?? 'ready') };
        if (stale) return { status: 'in-progress', message: 'waiting for the controller to observe the new generation' };
        return { status: 'in-progress', message: String(ready.message ?? ready.reason ?? 'not ready') };
      }
      return { status: 'ready' };
    }
  }
};
