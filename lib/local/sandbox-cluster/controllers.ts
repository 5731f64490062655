/**
 * What the sandbox cluster's controllers do, as far as the recordings show it: a CustomResourceDefinition becomes
 * Established (its types are served, optionally after a delay), a deleted Namespace turns Terminating (and, with
 * `namespaceController`, goes with its objects at once), and with `simulateControllers` a written Deployment,
 * StatefulSet, DaemonSet or Job reports rolled out shortly after. Nothing creates ReplicaSets or Pods, and there
 * are no finalizers to wait on: deleting any other object removes it at once.
 */
import { isMap, type Obj } from '../../core/plain-object.js';
import { now } from './responses.js';
import { crdKey, type ObjectStore, type ResourceType } from './store.js';

export interface ControllerOptions {
  /** Delete terminating namespaces (and their objects) at once, like the namespace controller would. */
  namespaceController?: boolean;
  /** Delay before a new CRD becomes Established. */
  crdEstablishDelayMs?: number;
  /** Play the workload controllers: a written Deployment, StatefulSet, DaemonSet or Job reports ready shortly after. */
  simulateControllers?: boolean;
}

/** The store and the controllers that act on it: what the routes and the test API write through. */
export interface Cluster {
  store: ObjectStore;
  controllers: Controllers;
}

/** How long a simulated workload takes to roll out. */
const ROLLOUT_MS = 100;

export class Controllers {
  constructor(
    private readonly store: ObjectStore,
    private readonly options: ControllerOptions,
  ) {}

  /** After a CustomResourceDefinition is written: serve its types once it is Established. */
  crdWritten(crd: Obj): void {
    const spec = crd.spec as Obj;
    const names = spec.names as Obj;
    const name = String((crd.metadata as Obj).name);
    const types: ResourceType[] = ((spec.versions as Obj[]) ?? [])
      .filter((v) => v.served !== false)
      .map((v) => ({
        group: String(spec.group),
        version: String(v.name),
        resource: String(names.plural),
        kind: String(names.kind),
        namespaced: spec.scope !== 'Cluster',
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
        subresources: isMap(v.subresources) && 'status' in v.subresources ? ['status'] : [],
      }));
    const establish = () => {
      const live = this.store.get(crdKey(name));
      if (!live) return;
      live.status = {
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now() },
          { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now() },
        ],
        acceptedNames: names,
        storedVersions: types.map((x) => x.version).slice(0, 1),
      };
      this.store.serve(name, types);
    };
    const delay = this.options.crdEstablishDelayMs ?? 0;
    if (delay > 0 && !this.store.serves(name)) setTimeout(establish, delay);
    else establish();
  }

  /** After a CustomResourceDefinition is deleted: its types are no longer served. */
  crdDeleted(name: string): void {
    this.store.unserve(name);
  }

  /** After an object is written through the API: with `simulateControllers`, a workload rolls out. */
  written(key: string): void {
    if (this.options.simulateControllers) this.rollOut(key);
  }

  /**
   * A Namespace is deleted: it turns Terminating (deletionTimestamp, phase), or with `namespaceController` goes at
   * once with every object in it. Returns the object the DELETE answers with.
   */
  namespaceDeleted(key: string, live: Obj, dryRun: boolean): Obj {
    const meta = live.metadata as Obj;
    const out = structuredClone(live);
    const m = out.metadata as Obj;
    delete m.managedFields;
    m.deletionTimestamp ??= now();
    out.status = { phase: 'Terminating' };
    if (dryRun) return out;
    if (this.options.namespaceController) {
      this.store.delete(key);
      this.store.deleteNamespaced(String(meta.name));
    } else {
      meta.deletionTimestamp = m.deletionTimestamp;
      live.status = { phase: 'Terminating' };
      meta.resourceVersion = this.store.nextVersion();
      m.resourceVersion = meta.resourceVersion;
    }
    return out;
  }

  /** What a controller would report once a workload has rolled out. */
  private rollOut(key: string): void {
    setTimeout(() => {
      const o = this.store.get(key);
      if (!o) return;
      const meta = o.metadata as Obj;
      const spec = (o.spec ?? {}) as Obj;
      const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
      const generation = meta.generation;
      const status: Record<string, Obj> = {
        Deployment: { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
        StatefulSet: { observedGeneration: generation, replicas, readyReplicas: replicas, updatedReplicas: replicas, currentRevision: 'r1', updateRevision: 'r1' },
        DaemonSet: { observedGeneration: generation, desiredNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1 },
        Job: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] },
      };
      const next = status[String(o.kind)];
      if (!next) return;
      o.status = next;
      meta.resourceVersion = this.store.nextVersion();
    }, ROLLOUT_MS);
  }
}
