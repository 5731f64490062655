/**
 * HTTP dispatch of the sandbox cluster: discovery paths, then `/api/v1/...` and `/apis/{group}/{version}/...`
 * resolved to a resource type, namespace, name and subresource, the read-only user's 403, and the verb's handler.
 */
import type { IncomingMessage } from 'node:http';
import { matchesSelector } from '../../core/label-selector.js';
import type { Obj } from '../../core/plain-object.js';
import type { Cluster } from './controllers.js';
import { remove } from './delete.js';
import { discoveryDocument, resourceList } from './discovery.js';
import { detailsOf, groupResource, notFound, statusBody, withTypeMeta } from './responses.js';
import { apiVersionOf, type ResourceType } from './store.js';
import { write, writeStatus, type Answer } from './write.js';

/** One request as the server saw it (for request counts in tests and benchmarks). */
export interface LoggedRequest {
  method: string;
  path: string;
  /** get, list, apply, patch, update, create, delete, discovery, or 'dry-run apply' etc. */
  verb: string;
  dryRun: boolean;
  status: number;
}

/** Answers one authenticated request; sets `log.verb`. */
export const route = (cluster: Cluster, readOnly: ReadonlySet<string>, req: IncomingMessage, url: URL, body: string, user: string, log: LoggedRequest): Answer => {
  const { store } = cluster;
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/$/, '');
  const doc = discoveryDocument(path, req.headers.accept ?? '', store);
  if (doc) {
    log.verb = 'discovery';
    return doc.contentType ? [200, doc.body, doc.contentType] : [200, doc.body];
  }
  const m = path.match(/^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/(.*))?$/);
  if (!m) return notFoundText(log);
  const group = m[2] ?? '';
  const version = (m[1] ?? m[3]) as string;
  const rest = (m[4] ?? '').split('/').filter(Boolean);
  const gvTypes = store.allTypes().filter((t) => t.group === group && t.version === version);
  if (!gvTypes.length) return notFoundText(log);
  if (!rest.length) {
    log.verb = 'discovery';
    return [200, resourceList(group, version, gvTypes)];
  }

  // Resolve /namespaces/{ns}/{resource}/{name}/{sub} versus cluster-scoped /{resource}/{name}/{sub}.
  let namespace = '';
  let segs = rest;
  if (rest[0] === 'namespaces' && rest.length >= 3 && gvTypes.some((t) => t.resource === rest[2] && t.namespaced)) {
    namespace = rest[1] as string;
    segs = rest.slice(2);
  }
  const [resource, name, sub] = segs as [string, string?, string?];
  const t = gvTypes.find((x) => x.resource === resource);
  if (!t || (sub && !t.subresources.includes(sub))) {
    log.verb = 'unknown';
    return [404, statusBody(404, 'NotFound', 'the server could not find the requested resource', {})];
  }
  const verb = verbOf(method, name, req.headers['content-type']);
  log.verb = log.dryRun ? `dry-run ${verb}` : verb;
  if (readOnly.has(user) && !['get', 'list'].includes(verb)) {
    const scope = namespace ? ` in the namespace "${namespace}"` : '';
    return [
      403,
      statusBody(
        403,
        'Forbidden',
        `${groupResource(t)} "${name ?? ''}" is forbidden: User "${user}" cannot ${verb === 'apply' ? 'patch' : verb} resource "${t.resource}" in API group "${t.group}"${scope}`,
        detailsOf(t, name ?? ''),
      ),
    ];
  }
  if (!name) {
    if (method === 'GET') return [200, listObjects(cluster, t, namespace, url.searchParams.get('labelSelector') ?? '')];
    if (method === 'POST') return write(cluster, t, namespace, undefined, 'create', body, url, req.headers['content-type']);
    return [405, statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')];
  }
  if (sub === 'status') return writeStatus(cluster, t, namespace, name, method, body, url);
  if (method === 'GET') {
    const o = store.get(store.key(t, namespace, name));
    return o ? [200, withTypeMeta(o, t)] : [404, notFound(t, name)];
  }
  if (method === 'DELETE') return remove(cluster, t, namespace, name, log.dryRun, body);
  return write(cluster, t, namespace, name, verb, body, url, req.headers['content-type']);
};

/** A LIST, in one namespace or all, filtered by a label selector (no field selectors, no pagination). */
const listObjects = ({ store }: Cluster, t: ResourceType, namespace: string, labelSelector: string): Obj => {
  const prefix = namespace ? `${t.group}/${t.resource}/${namespace}/` : `${t.group}/${t.resource}/`;
  const items = store
    .entries(prefix)
    .map(([, v]) => v)
    .filter((o) => !labelSelector || matchesSelector(labelSelector, ((o.metadata as Obj).labels as Obj) ?? {}))
    .map((o) => {
      const { apiVersion: _a, kind: _k, ...rest } = structuredClone(o);
      return rest;
    });
  return { kind: `${t.kind}List`, apiVersion: apiVersionOf(t), metadata: { resourceVersion: store.resourceVersion }, items };
};

const notFoundText = (log: LoggedRequest): Answer => {
  log.verb = 'unknown';
  return [404, '404 page not found\n', 'text/plain; charset=utf-8'];
};

const verbOf = (method: string, name: string | undefined, contentType: string | undefined): string => {
  if (method === 'GET') return name ? 'get' : 'list';
  if (method === 'PATCH') return contentType?.includes('apply-patch') ? 'apply' : 'patch';
  if (method === 'PUT') return 'update';
  if (method === 'POST') return 'create';
  if (method === 'DELETE') return 'delete';
  return method.toLowerCase();
};
