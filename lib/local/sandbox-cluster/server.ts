/**
 * A local HTTP server that answers like kube-apiserver v1.28, built from real recorded responses
 * (discovery, server-side apply, dry run, errors; `test/integration/kubernetes/recordings-replay.test.ts` replays
 * every recording against it). Tests point a kubeconfig at it, and `driftless serve` uses it as a sandbox
 * cluster when no cluster is configured.
 *
 * What it does: discovery (plain and aggregated), GET/LIST (label selectors), server-side apply with
 * managedFields per manager (Apply and Update operations, conflicts, force), merge and JSON patches, PUT,
 * POST, DELETE, the status subresource, dry run, resourceVersion and generation, namespaces (missing → 404,
 * terminating → 403), CustomResourceDefinitions (served once Established), bearer-token auth with a
 * read-only user, and fault injection (latency, 500, 429 with Retry-After, dropped connections).
 *
 * Where it is simpler than the real one:
 * - schema knowledge comes from field names (list keys, atomic selectors) and defaults only for the kinds the
 *   tests use (Deployment and pod templates, Service, Namespace, Secret); no OpenAPI validation beyond the
 *   Deployment checks the recordings show;
 * - no controllers: nothing creates ReplicaSets or Pods, a Namespace stays Terminating unless
 *   `namespaceController` is set, and status changes only when a test writes it (to play a rollout);
 * - no watch, no field selectors, no pagination (`limit`/`continue`), no admission webhooks, no
 *   strategic-merge-patch semantics (such patches are applied as JSON merge patches);
 * - error messages for malformed YAML differ in wording (the status, reason and shape do not).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { matchesSelector } from '../../render/kustomize/label-selector.js';
import aggregatedApi from './discovery/discovery-api-aggregated-v2beta1.json' with { type: 'json' };
import aggregatedApis from './discovery/discovery-apis-aggregated-v2beta1.json' with { type: 'json' };
import apiList from './discovery/discovery-api.json' with { type: 'json' };
import apisList from './discovery/discovery-apis.json' with { type: 'json' };
import apiV1 from './discovery/discovery-api-v1.json' with { type: 'json' };
import appsV1 from './discovery/discovery-apis-apps-v1.json' with { type: 'json' };
import versionInfo from './discovery/version.json' with { type: 'json' };
import { applyMerge, changedFields, fieldSetOf, formatFieldPath, fromFieldsV1, removeAt, toFieldsV1, valueAt, type FieldSet } from './field-set.js';
import { applyDefaults, validate } from './schema.js';
import { isMap, type Obj } from '../../core/plain-object.js';

interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  subresources: string[];
}

/** A fault to inject into matching requests. */
export interface Fault {
  /** Which requests: method and a substring or regex of the path (default: every request). */
  method?: string;
  path?: string | RegExp;
  /** What to do: answer with this status (429 carries Retry-After), or drop the connection. */
  status?: 500 | 503 | 429;
  retryAfterSeconds?: number;
  drop?: boolean;
  /** How many matching requests to affect (default 1). */
  times?: number;
}

/** One request as the server saw it (for request counts in tests and benchmarks). */
export interface LoggedRequest {
  method: string;
  path: string;
  /** get, list, apply, patch, update, create, delete, discovery, or 'dry-run apply' etc. */
  verb: string;
  dryRun: boolean;
  status: number;
}

export interface KubeApiServerOptions {
  /** Bearer tokens and the users they authenticate; a user named in `readOnlyUsers` may only read. */
  tokens?: Record<string, string>;
  readOnlyUsers?: string[];
  /** Latency added to every request, in milliseconds. */
  latencyMs?: number;
  /** Delete terminating namespaces (and their objects) at once, like the namespace controller would. */
  namespaceController?: boolean;
  /** Delay before a new CRD becomes Established. */
  crdEstablishDelayMs?: number;
  /** Play the workload controllers: a written Deployment, StatefulSet, DaemonSet or Job reports ready shortly after. */
  simulateControllers?: boolean;
}

/** The default admin token of a test server. */
export const ADMIN_TOKEN = 'test-admin-token';

/** A kube-apiserver look-alike for tests. */
export class KubeApiServer {
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  latencyMs: number;
  private readonly server: Server;
  private readonly store = new Map<string, Obj>();
  private readonly types: ResourceType[] = [];
  private readonly crdTypes = new Map<string, ResourceType[]>();
  private rv = 100;
  private readonly tokens: Record<string, string>;
  private readonly readOnly: Set<string>;
  private readonly aggregatedApis: Obj;
  private readonly aggregatedApi: Obj;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly options: KubeApiServerOptions = {}) {
    this.tokens = options.tokens ?? { [ADMIN_TOKEN]: 'admin', 'test-limited-token': 'limited-user' };
    this.readOnly = new Set(options.readOnlyUsers ?? ['limited-user']);
    this.latencyMs = options.latencyMs ?? 0;
    this.aggregatedApis = aggregatedApis;
    this.aggregatedApi = aggregatedApi;
    for (const doc of [this.aggregatedApi, this.aggregatedApis]) {
      for (const g of doc.items as Obj[]) {
        const group = String((g.metadata as Obj).name ?? '');
        for (const v of g.versions as Obj[]) {
          for (const r of v.resources as Obj[]) {
            this.types.push({
              group,
              version: String(v.version),
              resource: String(r.resource),
              kind: String((r.responseKind as Obj).kind),
              namespaced: r.scope === 'Namespaced',
              verbs: (r.verbs as string[]) ?? [],
              subresources: ((r.subresources as Obj[] | undefined) ?? []).map((s) => String(s.subresource)),
            });
          }
        }
      }
    }
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Starts listening on a free loopback port; returns the base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A kubeconfig (YAML) that points at this server with the given token. */
  kubeconfig(token = ADMIN_TOKEN, context = 'test'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      `current-context: ${context}`,
      'clusters:',
      `- name: ${context}`,
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      `- name: ${context}`,
      '  user:',
      `    token: ${token}`,
      'contexts:',
      `- name: ${context}`,
      '  context:',
      `    cluster: ${context}`,
      `    user: ${context}`,
      '',
    ].join('\n');
  }

  /** Counts of logged requests by verb (writes and dry runs apart). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) out[r.verb] = (out[r.verb] ?? 0) + 1;
    return out;
  }

  /** Forgets the request log. */
  resetLog(): void {
    this.requests.length = 0;
  }

  // ---- direct access for tests (no HTTP, not logged) ----

  /** Creates or replaces an object as if another actor wrote it (no managedFields entry unless given). */
  put(obj: Obj): Obj {
    const t = this.typeForKind(String(obj.apiVersion), String(obj.kind));
    if (!t) throw new Error(`unknown kind ${String(obj.apiVersion)}/${String(obj.kind)}`);
    const meta = obj.metadata as Obj;
    const copy = structuredClone(obj);
    applyDefaults(copy);
    const m = copy.metadata as Obj;
    m.uid ??= randomUUID();
    m.creationTimestamp ??= now();
    m.resourceVersion = String(++this.rv);
    if (hasGeneration(copy)) m.generation ??= 1;
    this.store.set(this.key(t, t.namespaced ? String(meta.namespace ?? '') : '', String(meta.name)), copy);
    if (copy.kind === 'CustomResourceDefinition') this.registerCrd(copy);
    return structuredClone(copy);
  }

  /** Reads an object (undefined when missing). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const t = this.typeForKind(apiVersion, kind);
    if (!t) return undefined;
    const o = this.store.get(this.key(t, t.namespaced ? (namespace ?? '') : '', name));
    return o ? structuredClone(o) : undefined;
  }

  /** Every stored object of a kind. */
  list(apiVersion: string, kind: string): Obj[] {
    const t = this.typeForKind(apiVersion, kind);
    if (!t) return [];
    const prefix = `${t.group}/${t.resource}/`;
    return [...this.store.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => structuredClone(v));
  }

  /** Sets an object's status (to play a rollout). */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Obj): void {
    const t = this.typeForKind(apiVersion, kind);
    const o = t && this.store.get(this.key(t, t.namespaced ? (namespace ?? '') : '', name));
    if (!o) throw new Error(`no ${kind} ${namespace ?? ''}/${name}`);
    o.status = structuredClone(status);
    (o.metadata as Obj).resourceVersion = String(++this.rv);
  }

  /** Creates a Namespace directly. */
  createNamespace(name: string, labels: Obj = {}): void {
    this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  }

  // ---- HTTP ----

  private key(t: ResourceType, namespace: string, name: string): string {
    return `${t.group}/${t.resource}/${namespace}/${name}`;
  }

  private allTypes(): ResourceType[] {
    return [...this.types, ...[...this.crdTypes.values()].flat()];
  }

  private typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    return this.allTypes().find((t) => t.group === group && t.version === version && t.kind === kind);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const body = await readBody(req);
    const dryRun = url.searchParams.get('dryRun') === 'All';
    const log: LoggedRequest = { method: req.method ?? 'GET', path: url.pathname, verb: 'other', dryRun, status: 0 };
    this.requests.push(log);
    if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
    const fault = this.takeFault(log.method, url.pathname + url.search);
    if (fault?.drop) {
      log.status = -1;
      req.socket.destroy();
      return;
    }
    const send = (status: number, payload: unknown, contentType = 'application/json') => {
      log.status = status;
      const headers: Record<string, string> = { 'content-type': contentType };
      if (status === 429) headers['retry-after'] = String(fault?.retryAfterSeconds ?? 1);
      res.writeHead(status, headers);
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (fault?.status) {
      send(
        fault.status,
        statusBody(
          fault.status,
          fault.status === 429 ? 'TooManyRequests' : fault.status === 503 ? 'ServiceUnavailable' : 'InternalError',
          fault.status === 429
            ? 'the server has received too many requests and has asked us to try again later'
            : 'an error on the server ("injected") has prevented the request from succeeding',
        ),
      );
      return;
    }
    try {
      const user = this.authenticate(req.headers.authorization);
      if (!user) {
        send(401, statusBody(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      const [status, payload, ct] = this.route(req, url, body, user, log);
      send(status, payload, ct);
    } catch (err) {
      send(500, statusBody(500, 'InternalError', `test server: ${(err as Error).message}`));
    }
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const idx = this.faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || (typeof f.path === 'string' ? path.includes(f.path) : f.path.test(path))));
    if (idx < 0) return undefined;
    const f = this.faults[idx] as Fault;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.faults.splice(idx, 1);
    return f;
  }

  private authenticate(header: string | undefined): string | undefined {
    const m = header?.match(/^Bearer (.+)$/);
    return m ? this.tokens[m[1] as string] : undefined;
  }

  private route(req: IncomingMessage, url: URL, body: string, user: string, log: LoggedRequest): [number, unknown, string?] {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/$/, '');
    if (path === '/version') return this.discovery(log, versionInfo);
    const aggregated = (req.headers.accept ?? '').includes('as=APIGroupDiscoveryList');
    const AGGREGATED_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
    if (path === '/api') {
      return aggregated ? [...this.discovery(log, this.aggregatedApi), AGGREGATED_TYPE] : this.discovery(log, apiList);
    }
    if (path === '/apis') {
      return aggregated ? [...this.discovery(log, this.aggregatedWithCrds()), AGGREGATED_TYPE] : this.discovery(log, this.groupList());
    }
    if (path === '/api/v1') return this.discovery(log, apiV1);
    if (path === '/apis/apps/v1') return this.discovery(log, appsV1);
    const m = path.match(/^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/(.*))?$/);
    if (!m) return notFoundText(log);
    const group = m[2] ?? '';
    const version = (m[1] ?? m[3]) as string;
    const rest = (m[4] ?? '').split('/').filter(Boolean);
    const gvTypes = this.allTypes().filter((t) => t.group === group && t.version === version);
    if (!gvTypes.length) return notFoundText(log);
    if (!rest.length) return this.discovery(log, resourceList(group, version, gvTypes));

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
    log.verb = dryRunLabel(verb, log.dryRun);
    if (this.readOnly.has(user) && !['get', 'list'].includes(verb)) {
      const scope = namespace ? ` in the namespace "${namespace}"` : '';
      const gr = t.group ? `${t.resource}.${t.group}` : t.resource;
      return [
        403,
        statusBody(
          403,
          'Forbidden',
          `${gr} "${name ?? ''}" is forbidden: User "${user}" cannot ${verb === 'apply' ? 'patch' : verb} resource "${t.resource}" in API group "${t.group}"${scope}`,
          {
            name: name ?? '',
            ...(t.group ? { group: t.group } : {}),
            kind: t.resource,
          },
        ),
      ];
    }
    if (!name) {
      if (method === 'GET') return [200, this.listObjects(t, namespace, url.searchParams.get('labelSelector') ?? '')];
      if (method === 'POST') return this.write(t, namespace, undefined, 'create', body, url, req.headers['content-type']);
      return [405, statusBody(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')];
    }
    if (sub === 'status') return this.writeStatus(t, namespace, name, method, body, url);
    if (method === 'GET') {
      const o = this.store.get(this.key(t, namespace, name));
      return o ? [200, withTypeMeta(o, t)] : [404, notFound(t, name)];
    }
    if (method === 'DELETE') return this.remove(t, namespace, name, log.dryRun, body);
    return this.write(t, namespace, name, verb, body, url, req.headers['content-type']);
  }

  private discovery(log: LoggedRequest, body: unknown): [number, unknown] {
    log.verb = 'discovery';
    return [200, body];
  }

  private groupList(): Obj {
    const base = structuredClone(apisList) as Obj;
    const groups = base.groups as Obj[];
    for (const [group, types] of this.crdGroups()) {
      const versions = [...new Set(types.map((t) => t.version))].map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
      groups.push({ name: group, versions, preferredVersion: versions[0] });
    }
    return base;
  }

  private aggregatedWithCrds(): Obj {
    const base = structuredClone(this.aggregatedApis);
    const items = base.items as Obj[];
    for (const [group, types] of this.crdGroups()) {
      const versions = [...new Set(types.map((t) => t.version))].map((v) => ({
        version: v,
        resources: types
          .filter((t) => t.version === v)
          .map((t) => ({
            resource: t.resource,
            responseKind: { group: '', version: '', kind: t.kind },
            scope: t.namespaced ? 'Namespaced' : 'Cluster',
            verbs: t.verbs,
          })),
        freshness: 'Current',
      }));
      items.push({ metadata: { name: group, creationTimestamp: null }, versions });
    }
    return base;
  }

  private crdGroups(): Map<string, ResourceType[]> {
    const byGroup = new Map<string, ResourceType[]>();
    for (const types of this.crdTypes.values()) for (const t of types) byGroup.set(t.group, [...(byGroup.get(t.group) ?? []), t]);
    return byGroup;
  }

  private listObjects(t: ResourceType, namespace: string, labelSelector: string): Obj {
    const prefix = namespace ? `${t.group}/${t.resource}/${namespace}/` : `${t.group}/${t.resource}/`;
    const items = [...this.store.entries()]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, v]) => v)
      .filter((o) => !labelSelector || matchesSelector(labelSelector, ((o.metadata as Obj).labels as Obj) ?? {}))
      .map((o) => {
        const { apiVersion: _a, kind: _k, ...rest } = structuredClone(o);
        return rest;
      });
    return { kind: `${t.kind}List`, apiVersion: t.group ? `${t.group}/${t.version}` : t.version, metadata: { resourceVersion: String(this.rv) }, items };
  }

  private checkNamespace(t: ResourceType, namespace: string, creating: boolean, name: string): [number, unknown] | undefined {
    if (!t.namespaced) return undefined;
    const ns = this.store.get(`/namespaces//${namespace}`);
    if (!ns) return [404, statusBody(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' })];
    if (creating && (ns.metadata as Obj).deletionTimestamp) {
      return [
        403,
        statusBody(403, 'Forbidden', `${t.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
          name,
          kind: t.resource,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
        }),
      ];
    }
    return undefined;
  }

  private write(t: ResourceType, namespace: string, urlName: string | undefined, verb: string, body: string, url: URL, contentType: string | undefined): [number, unknown] {
    const dryRun = url.searchParams.get('dryRun') === 'All';
    const manager = url.searchParams.get('fieldManager');
    const force = url.searchParams.get('force') === 'true';
    const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
    if (verb === 'apply' && !manager) {
      return [
        422,
        statusBody(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
        }),
      ];
    }
    let input: unknown;
    try {
      input = contentType?.includes('yaml') ? parseYaml(body) : JSON.parse(body);
    } catch (err) {
      const what = contentType?.includes('yaml') ? 'error decoding YAML: error converting YAML to JSON: yaml: ' : 'error decoding patch: ';
      return [400, statusBody(400, 'BadRequest', `${what}${(err as Error).message.split('\n')[0]}`)];
    }
    const name = urlName ?? (isMap(input) && isMap(input.metadata) ? String(input.metadata.name ?? '') : '');
    const key = this.key(t, namespace, name);
    const live = this.store.get(key);
    const creating = !live;
    const nsError = this.checkNamespace(t, namespace, creating, name);
    if (nsError) return nsError;

    let next: Obj;
    const managed = new Map<string, { operation: string; apiVersion: string; set: FieldSet; time: string; subresource?: string }>();
    for (const e of ((live?.metadata as Obj | undefined)?.managedFields as Obj[] | undefined) ?? []) {
      managed.set(`${String(e.manager)}|${String(e.operation)}`, {
        operation: String(e.operation),
        apiVersion: String(e.apiVersion),
        set: fromFieldsV1(e.fieldsV1),
        time: String(e.time),
        ...(e.subresource ? { subresource: String(e.subresource) } : {}),
      });
    }
    if (verb === 'apply') {
      if (!isMap(input)) return [400, statusBody(400, 'BadRequest', 'the body of an apply patch must be an object')];
      const meta = isMap(input.metadata) ? input.metadata : {};
      if (urlName && meta.name !== urlName) {
        return [400, statusBody(400, 'BadRequest', `the name of the object (${String(meta.name)}) does not match the name on the URL (${urlName})`)];
      }
      const applied = structuredClone(input);
      const appliedSet = fieldSetOf(applied, t.kind);
      const mine = `${manager}|Apply`;
      if (live) {
        const conflicts: { manager: string; operation: string; apiVersion: string; field: string }[] = [];
        for (const [id, entry] of managed) {
          if (id === mine) continue;
          for (const f of entry.set) {
            if (!appliedSet.has(f)) continue;
            const a = valueAt(applied, f, t.kind);
            const l = valueAt(live, f, t.kind);
            if (l.present && JSON.stringify(a.value) === JSON.stringify(l.value)) continue;
            if (force) entry.set.delete(f);
            else conflicts.push({ manager: id.split('|')[0] as string, operation: entry.operation, apiVersion: entry.apiVersion, field: f });
          }
        }
        if (conflicts.length) {
          const label = (c: (typeof conflicts)[number]) => (c.operation === 'Update' ? `conflict with "${c.manager}" using ${c.apiVersion}` : `conflict with "${c.manager}"`);
          const summary = conflicts.map((c) => `${label(c)}: ${formatFieldPath(c.field)}`).join('\n');
          return [
            409,
            statusBody(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${summary}`, {
              causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: label(c), field: formatFieldPath(c.field) })),
            }),
          ];
        }
        const { managedFields: _m, ...liveMeta } = live.metadata as Obj;
        const base = { ...structuredClone(live), metadata: structuredClone(liveMeta) };
        next = applyMerge(base, { ...applied, metadata: { ...meta } }, [], t.kind) as Obj;
        const previous = managed.get(mine)?.set ?? new Set<string>();
        const othersOwn = new Set([...managed.entries()].filter(([id]) => id !== mine).flatMap(([, e]) => [...e.set]));
        for (const f of previous) if (!appliedSet.has(f) && !othersOwn.has(f)) removeAt(next, f, t.kind);
      } else {
        next = structuredClone(applied);
      }
      managed.set(mine, { operation: 'Apply', apiVersion, set: appliedSet, time: now() });
    } else {
      // Update operations: merge patch, JSON patch, PUT, POST.
      let candidate: Obj;
      if (verb === 'patch') {
        candidate = contentType?.includes('json-patch') ? (jsonPatch(live ?? {}, input) as Obj) : (mergePatch(live ?? {}, input) as Obj);
        if (!live) return [404, notFound(t, name)];
      } else {
        if (!isMap(input)) return [400, statusBody(400, 'BadRequest', 'the body must be an object')];
        candidate = structuredClone(input);
        if (verb === 'create' && live) {
          return [
            409,
            statusBody(409, 'AlreadyExists', `${t.group ? `${t.resource}.${t.group}` : t.resource} "${name}" already exists`, {
              name,
              ...(t.group ? { group: t.group } : {}),
              kind: t.resource,
            }),
          ];
        }
      }
      const { managedFields: _m, ...candMeta } = (candidate.metadata as Obj) ?? {};
      candidate.metadata = candMeta;
      if (live && isMap(live.status) && verb !== 'create') candidate.status = live.status;
      next = candidate;
      const who = `${manager ?? 'unknown'}|Update`;
      const { changed, removed } = changedFields(live ?? {}, next, t.kind);
      for (const [id, e] of managed) if (id !== who) for (const f of [...changed, ...removed]) e.set.delete(f);
      const entry = managed.get(who) ?? { operation: 'Update', apiVersion, set: new Set<string>(), time: now() };
      for (const f of changed) entry.set.add(f);
      for (const f of removed) entry.set.delete(f);
      entry.time = now();
      managed.set(who, entry);
    }

    // Identity, defaults, validation.
    next.apiVersion = apiVersion;
    next.kind = t.kind;
    const meta = (next.metadata = isMap(next.metadata) ? next.metadata : {});
    meta.name = name;
    if (t.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    applyDefaults(next);
    const causes = validate(next);
    if (causes.length) {
      return [
        422,
        statusBody(422, 'Invalid', `${t.kind}.${t.group || 'core'} "${name}" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}]`, {
          name,
          ...(t.group ? { group: t.group } : {}),
          kind: t.kind,
          causes: causes.map((c) => ({ reason: c.message.startsWith('Required') ? 'FieldValueRequired' : 'FieldValueInvalid', message: c.message, field: c.field })),
        }),
      ];
    }
    const entries = [...managed.entries()].filter(([, e]) => e.set.size > 0);
    const previousEntries = (live?.metadata as Obj | undefined)?.managedFields as Obj[] | undefined;
    const sameContent = live && stableJson(strip(live)) === stableJson(strip(next));
    const sameOwnership =
      live &&
      stableJson((previousEntries ?? []).map((e) => [e.manager, e.operation, e.fieldsV1])) ===
        stableJson(entries.map(([id, e]) => [id.split('|')[0], e.operation, toFieldsV1(e.set)]));
    if (live && sameContent && sameOwnership) return [200, withTypeMeta(live, t)];
    meta.managedFields = entries.map(([id, e]) => ({
      manager: id.split('|')[0],
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: sameContent && previousEntries ? e.time : e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(e.set),
      ...(e.subresource ? { subresource: e.subresource } : {}),
    }));
    const liveMeta = (live?.metadata ?? {}) as Obj;
    meta.uid = liveMeta.uid ?? randomUUID();
    meta.creationTimestamp = liveMeta.creationTimestamp ?? now();
    if (liveMeta.deletionTimestamp) meta.deletionTimestamp = liveMeta.deletionTimestamp;
    if (hasGeneration(next)) {
      const prevGen = typeof liveMeta.generation === 'number' ? liveMeta.generation : 0;
      meta.generation = !live ? 1 : specChanged(live, next) ? prevGen + 1 : prevGen;
    } else delete meta.generation;
    if (dryRun) {
      if (live) meta.resourceVersion = liveMeta.resourceVersion;
      else delete meta.resourceVersion;
      return [creating ? 201 : 200, withTypeMeta(next, t)];
    }
    meta.resourceVersion = String(++this.rv);
    this.store.set(key, next);
    if (t.kind === 'CustomResourceDefinition') this.registerCrd(next);
    if (this.options.simulateControllers) this.rollOut(key);
    return [creating ? 201 : 200, withTypeMeta(next, t)];
  }

  private writeStatus(t: ResourceType, namespace: string, name: string, method: string, body: string, url: URL): [number, unknown] {
    const live = this.store.get(this.key(t, namespace, name));
    if (!live) return [404, notFound(t, name)];
    if (method === 'GET') return [200, withTypeMeta(live, t)];
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return [400, statusBody(400, 'BadRequest', 'error decoding patch')];
    }
    const status = method === 'PUT' ? (input as Obj).status : (mergePatch(live, input) as Obj).status;
    if (url.searchParams.get('dryRun') === 'All') return [200, withTypeMeta({ ...live, status }, t)];
    live.status = structuredClone(status);
    (live.metadata as Obj).resourceVersion = String(++this.rv);
    return [200, withTypeMeta(live, t)];
  }

  private remove(t: ResourceType, namespace: string, name: string, dryRun: boolean, body = ''): [number, unknown] {
    const key = this.key(t, namespace, name);
    const live = this.store.get(key);
    if (!live) return [404, notFound(t, name)];
    const meta = live.metadata as Obj;
    // DeleteOptions.preconditions: uid and resourceVersion must match, as the real server checks them.
    let pre: Obj;
    try {
      pre = body ? (((JSON.parse(body) as Obj).preconditions as Obj | undefined) ?? {}) : {};
    } catch {
      return [400, statusBody(400, 'BadRequest', 'error decoding DeleteOptions')];
    }
    for (const [field, label] of [
      ['uid', 'UID'],
      ['resourceVersion', 'ResourceVersion'],
    ] as const) {
      if (pre[field] !== undefined && pre[field] !== meta[field]) {
        const gr = t.group ? `${t.resource}.${t.group}` : t.resource;
        return [
          409,
          statusBody(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${gr} "${name}": Precondition failed: ${label} in precondition: ${String(pre[field])}, ${label} in object meta: ${String(meta[field])}`,
            { name, ...(t.group ? { group: t.group } : {}), kind: t.resource },
          ),
        ];
      }
    }
    if (t.kind === 'Namespace') {
      const out = structuredClone(live);
      const m = out.metadata as Obj;
      delete m.managedFields;
      m.deletionTimestamp ??= now();
      out.status = { phase: 'Terminating' };
      if (dryRun) return [200, out];
      if (this.options.namespaceController) {
        this.store.delete(key);
        for (const k of [...this.store.keys()]) if (k.split('/')[2] === name) this.store.delete(k);
      } else {
        meta.deletionTimestamp = m.deletionTimestamp;
        live.status = { phase: 'Terminating' };
        meta.resourceVersion = String(++this.rv);
        m.resourceVersion = meta.resourceVersion;
      }
      return [200, out];
    }
    if (!dryRun) {
      this.store.delete(key);
      if (t.kind === 'CustomResourceDefinition') this.crdTypes.delete(String(meta.name));
    }
    return [200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(t.group ? { group: t.group } : {}), kind: t.resource, uid: meta.uid } }];
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
      meta.resourceVersion = String(++this.rv);
    }, 100);
  }

  private registerCrd(crd: Obj): void {
    const spec = crd.spec as Obj;
    const names = spec.names as Obj;
    const name = String((crd.metadata as Obj).name);
    const types = ((spec.versions as Obj[]) ?? [])
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
      const live = this.store.get(`apiextensions.k8s.io/customresourcedefinitions//${name}`);
      if (!live) return;
      live.status = {
        conditions: [
          { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found', lastTransitionTime: now() },
          { type: 'Established', status: 'True', reason: 'InitialNamesAccepted', message: 'the initial names have been accepted', lastTransitionTime: now() },
        ],
        acceptedNames: names,
        storedVersions: types.map((x) => x.version).slice(0, 1),
      };
      this.crdTypes.set(name, types);
    };
    const delay = this.options.crdEstablishDelayMs ?? 0;
    if (delay > 0 && !this.crdTypes.has(name)) setTimeout(establish, delay);
    else establish();
  }
}

const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

const statusBody = (code: number, reason: string, message: string, details?: Obj): Obj => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

const notFound = (t: ResourceType, name: string): Obj =>
  statusBody(404, 'NotFound', `${t.group ? `${t.resource}.${t.group}` : t.resource} "${name}" not found`, {
    name,
    ...(t.group ? { group: t.group } : {}),
    kind: t.resource,
  });

const notFoundText = (log: LoggedRequest): [number, string, string] => {
  log.verb = 'unknown';
  return [404, '404 page not found\n', 'text/plain; charset=utf-8'];
};

const resourceList = (group: string, version: string, types: ResourceType[]): Obj => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: group ? `${group}/${version}` : version,
  resources: types.flatMap((t) => [
    { name: t.resource, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: t.verbs },
    ...t.subresources.map((s) => ({ name: `${t.resource}/${s}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] })),
  ]),
});

const verbOf = (method: string, name: string | undefined, contentType: string | undefined): string => {
  if (method === 'GET') return name ? 'get' : 'list';
  if (method === 'PATCH') return contentType?.includes('apply-patch') ? 'apply' : 'patch';
  if (method === 'PUT') return 'update';
  if (method === 'POST') return 'create';
  if (method === 'DELETE') return 'delete';
  return method.toLowerCase();
};

const dryRunLabel = (verb: string, dryRun: boolean): string => (dryRun ? `dry-run ${verb}` : verb);

const withTypeMeta = (o: Obj, t: ResourceType): Obj => {
  const { apiVersion: _a, kind: _k, ...rest } = structuredClone(o);
  return { kind: t.kind, apiVersion: t.group ? `${t.group}/${t.version}` : t.version, ...rest };
};

const hasGeneration = (o: Obj): boolean => o.kind !== 'Namespace' && isMap(o.spec);

const strip = (o: Obj): Obj => {
  const { metadata, ...rest } = o;
  const { managedFields: _m, resourceVersion: _r, generation: _g, uid: _u, creationTimestamp: _c, ...meta } = (metadata ?? {}) as Obj;
  return { ...rest, metadata: meta };
};

const specChanged = (a: Obj, b: Obj): boolean => {
  const pick = (o: Obj) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  return stableJson(pick(a)) !== stableJson(pick(b));
};

const stableJson = (v: unknown): string =>
  JSON.stringify(v, (_k, val: unknown) =>
    isMap(val)
      ? Object.fromEntries(
          Object.keys(val)
            .sort()
            .map((k) => [k, val[k]]),
        )
      : val,
  );

const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isMap(patch)) return structuredClone(patch);
  const out: Obj = isMap(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
};

const jsonPatch = (target: unknown, ops: unknown): unknown => {
  const out = structuredClone(target) as Obj;
  for (const op of (ops as Obj[]) ?? []) {
    const parts = String(op.path)
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = out;
    for (const p of parts.slice(0, -1)) node = (node as Obj)[p];
    const last = parts[parts.length - 1] as string;
    if (op.op === 'remove') {
      if (Array.isArray(node)) node.splice(Number(last), 1);
      else delete (node as Obj)[last];
    } else if (Array.isArray(node)) {
      if (last === '-') node.push(op.value);
      else if (op.op === 'add') node.splice(Number(last), 0, op.value);
      else node[Number(last)] = op.value;
    } else (node as Obj)[last] = op.value;
  }
  return out;
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
