import { isMap, type Obj } from '../../core/plain-object.js';
/**
 * The slice of the Kubernetes OpenAPI schema the test API server needs: list keys, atomic fields and defaults.
 * Simpler than the real server: keys and atomicity are decided by field name (not by type), and only the
 * defaults that the recorded kinds show are filled in. The keys are written out here rather than taken from the
 * renderer's MERGE_KEYS on purpose: the stand-in for the API server must not share a mistake with the code it tests.
 */

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/** Keys of an associative list (x-kubernetes-list-map-keys), with the defaults applied before keying. */
export const listKeys = (path: readonly string[], kind: string): { keys: string[]; defaults?: Obj } | undefined => {
  const field = path[path.length - 1] ?? '';
  const parent = path[path.length - 2] ?? '';
  if (field === 'ports' && CONTAINER_LISTS.has(parent)) return { keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } };
  if (field === 'ports' && kind === 'Service') return { keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } };
  const byName: Record<string, string> = {
    containers: 'name',
    initContainers: 'name',
    ephemeralContainers: 'name',
    env: 'name',
    volumes: 'name',
    volumeMounts: 'mountPath',
    imagePullSecrets: 'name',
    conditions: 'type',
    webhooks: 'name',
  };
  const key = byName[field];
  return key ? { keys: [key] } : undefined;
};

/** Lists of scalars that are sets (listType=set). */
export const isSetList = (path: readonly string[]): boolean => path[path.length - 1] === 'finalizers';

/** Maps owned as a whole (x-kubernetes-map-type: atomic): label selectors. */
export const isAtomicMap = (path: readonly string[]): boolean => path[path.length - 1] === 'selector';

const defaultContainer = (c: Obj): void => {
  c.resources ??= {};
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined) {
    const image = String(c.image ?? '');
    c.imagePullPolicy = image.endsWith(':latest') || !/:[^/]+$/.test(image) ? 'Always' : 'IfNotPresent';
  }
  if (Array.isArray(c.ports)) for (const p of c.ports) if (isMap(p)) p.protocol ??= 'TCP';
};

const defaultPodSpec = (spec: Obj): void => {
  for (const list of ['containers', 'initContainers']) {
    if (Array.isArray(spec[list])) for (const c of spec[list] as unknown[]) if (isMap(c)) defaultContainer(c);
  }
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
};

const defaultTemplate = (template: unknown): void => {
  if (!isMap(template)) return;
  const meta = (template.metadata ??= {}) as Obj;
  if (!('creationTimestamp' in meta)) meta.creationTimestamp = null;
  if (isMap(template.spec)) defaultPodSpec(template.spec);
};

/** Fills in the defaults kube-apiserver would for the kinds the tests use. */
export const applyDefaults = (obj: Obj): void => {
  const spec = isMap(obj.spec) ? obj.spec : undefined;
  switch (obj.kind) {
    case 'Deployment':
      if (!spec) return;
      spec.replicas ??= 1;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      defaultTemplate(spec.template);
      obj.status ??= {};
      break;
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      if (!spec) return;
      if (obj.kind !== 'DaemonSet' && obj.kind !== 'Job') spec.replicas ??= 1;
      defaultTemplate(spec.template);
      obj.status ??= {};
      break;
    case 'Pod':
      if (spec) defaultPodSpec(spec);
      obj.status ??= { phase: 'Pending' };
      break;
    case 'Service':
      if (!spec) return;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports)
          if (isMap(p)) {
            p.protocol ??= 'TCP';
            p.targetPort ??= p.port;
          }
      }
      obj.status ??= { loadBalancer: {} };
      break;
    case 'Namespace': {
      const meta = (obj.metadata ??= {}) as Obj;
      const labels = (meta.labels ??= {}) as Obj;
      labels['kubernetes.io/metadata.name'] = meta.name;
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      break;
    }
    case 'Secret': {
      obj.type ??= 'Opaque';
      // stringData is write-only: the server merges it into data.
      const stringData = obj.stringData;
      if (isMap(stringData)) {
        const data = isMap(obj.data) ? obj.data : {};
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        obj.data = data;
        delete obj.stringData;
      }
      break;
    }
    default:
  }
};

/** Validation the tests need (Deployment replicas and selector), in kube-apiserver's words. */
export const validate = (obj: Obj): { field: string; message: string }[] => {
  const causes: { field: string; message: string }[] = [];
  if (obj.kind === 'Deployment' && isMap(obj.spec)) {
    const spec = obj.spec;
    if (typeof spec.replicas === 'number' && spec.replicas < 0) {
      causes.push({ field: 'spec.replicas', message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0` });
    }
    const match = isMap(spec.selector) && isMap(spec.selector.matchLabels) ? spec.selector.matchLabels : undefined;
    const labels = isMap(spec.template) && isMap(spec.template.metadata) && isMap(spec.template.metadata.labels) ? spec.template.metadata.labels : {};
    if (match && !Object.entries(match).every(([k, v]) => labels[k] === v)) {
      const shown = `map[string]string{${Object.entries(labels)
        .map(([k, v]) => `"${k}":"${String(v)}"`)
        .join(', ')}}`;
      causes.push({ field: 'spec.template.metadata.labels', message: `Invalid value: ${shown}: \`selector\` does not match template \`labels\`` });
    }
    if (!match) causes.push({ field: 'spec.selector', message: 'Required value' });
  }
  return causes;
};
