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
 * The parts: this file is the HTTP server (auth, latency, faults, the request log) and the direct access tests
 * use; `routes.ts` dispatches a request; `store.ts` holds objects, resourceVersions and the served types;
 * `write.ts` and `delete.ts` are the verbs; `controllers.ts` is what controllers would do; `discovery.ts`,
 * `schema.ts` and `field-set.ts` are the recorded discovery, the schema slice and managedFields sets.
 * It imports nothing from the rest of driftless but `lib/core`.
 *
 * Where it is simpler than the real one:
 * - schema knowledge comes from field names (list keys, atomic selectors) and defaults only for the kinds the
 *   tests use (Deployment and pod templates, Service, Namespace, Secret); no OpenAPI validation beyond the
 *   Deployment checks the recordings show;
 * - few controllers: nothing creates ReplicaSets or Pods, a Namespace stays Terminating unless
 *   `namespaceController` is set, and status changes only when a test writes it (to play a rollout) or
 *   `simulateControllers` is set;
 * - no watch, no field selectors, no pagination (`limit`/`continue`), no admission webhooks, no
 *   strategic-merge-patch semantics (such patches are applied as JSON merge patches);
 * - error messages for malformed YAML differ in wording (the status, reason and shape do not).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Obj } from '../../core/plain-object.js';
import { Controllers, type Cluster, type ControllerOptions } from './controllers.js';
import { builtinTypes } from './discovery.js';
import { now, statusBody } from './responses.js';
import { route, type LoggedRequest } from './routes.js';
import { applyDefaults } from './schema.js';
import { ObjectStore } from './store.js';
import { hasGeneration } from './write.js';

export type { LoggedRequest } from './routes.js';

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

export interface KubeApiServerOptions extends ControllerOptions {
  /** Bearer tokens and the users they authenticate; a user named in `readOnlyUsers` may only read. */
  tokens?: Record<string, string>;
  readOnlyUsers?: string[];
  /** Latency added to every request, in milliseconds. */
  latencyMs?: number;
}

/** The default admin token of a test server. */
export const ADMIN_TOKEN = 'test-admin-token';

/** A kube-apiserver look-alike for tests. */
export class KubeApiServer {
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  latencyMs: number;
  private readonly server: Server;
  private readonly cluster: Cluster;
  private readonly tokens: Record<string, string>;
  private readonly readOnly: Set<string>;
  private readonly sockets = new Set<Socket>();

  constructor(options: KubeApiServerOptions = {}) {
    this.tokens = options.tokens ?? { [ADMIN_TOKEN]: 'admin', 'test-limited-token': 'limited-user' };
    this.readOnly = new Set(options.readOnlyUsers ?? ['limited-user']);
    this.latencyMs = options.latencyMs ?? 0;
    const store = new ObjectStore(builtinTypes());
    this.cluster = { store, controllers: new Controllers(store, options) };
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
    const { store, controllers } = this.cluster;
    const t = store.typeForKind(String(obj.apiVersion), String(obj.kind));
    if (!t) throw new Error(`unknown kind ${String(obj.apiVersion)}/${String(obj.kind)}`);
    const meta = obj.metadata as Obj;
    const copy = structuredClone(obj);
    applyDefaults(copy);
    const m = copy.metadata as Obj;
    m.uid ??= randomUUID();
    m.creationTimestamp ??= now();
    m.resourceVersion = store.nextVersion();
    if (hasGeneration(copy)) m.generation ??= 1;
    store.set(store.key(t, t.namespaced ? String(meta.namespace ?? '') : '', String(meta.name)), copy);
    if (copy.kind === 'CustomResourceDefinition') controllers.crdWritten(copy);
    return structuredClone(copy);
  }

  /** Reads an object (undefined when missing). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const { store } = this.cluster;
    const t = store.typeForKind(apiVersion, kind);
    if (!t) return undefined;
    const o = store.get(store.key(t, t.namespaced ? (namespace ?? '') : '', name));
    return o ? structuredClone(o) : undefined;
  }

  /** Every stored object of a kind. */
  list(apiVersion: string, kind: string): Obj[] {
    const { store } = this.cluster;
    const t = store.typeForKind(apiVersion, kind);
    if (!t) return [];
    return store.entries(`${t.group}/${t.resource}/`).map(([, v]) => structuredClone(v));
  }

  /** Sets an object's status (to play a rollout). */
  setStatus(apiVersion: string, kind: string, namespace: string | undefined, name: string, status: Obj): void {
    const { store } = this.cluster;
    const t = store.typeForKind(apiVersion, kind);
    const o = t && store.get(store.key(t, t.namespaced ? (namespace ?? '') : '', name));
    if (!o) throw new Error(`no ${kind} ${namespace ?? ''}/${name}`);
    o.status = structuredClone(status);
    (o.metadata as Obj).resourceVersion = store.nextVersion();
  }

  /** Creates a Namespace directly. */
  createNamespace(name: string, labels: Obj = {}): void {
    this.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  }

  // ---- HTTP ----

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
      const [status, payload, ct] = route(this.cluster, this.readOnly, req, url, body, user, log);
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
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
