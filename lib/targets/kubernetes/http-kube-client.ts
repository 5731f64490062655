import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeObject } from '../../core/object-ref.js';
import {
  KubeApiError,
  type ApplyOptions,
  type ApplyResult,
  type CallOptions,
  type DeletePreconditions,
  type KubeCause,
  type KubeClient,
  type ObjectLocation,
  type ResourceInfo,
} from './kube-client.js';

/** TLS material and headers for one request to a cluster. */
export interface Credentials {
  readonly headers: Record<string, string>;
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** A cluster's API endpoint and how to authenticate to it. */
export interface ClusterConnection {
  /** `https://…` (or `http://…` for a local test server). */
  readonly server: string;
  /** Called before each request: tokens may refresh, TLS material does not change. */
  credentials(): Promise<Credentials>;
}

export interface HttpKubeClientOptions {
  /** Connections kept open to the API server. @default 16 */
  readonly maxSockets?: number;
  /** Attempts per call for 429, 5xx and network errors. @default 5 */
  readonly attempts?: number;
  /** First backoff; doubles each retry. @default 200 */
  readonly backoffMs?: number;
  /** Longest wait between attempts, Retry-After included. @default 5000 */
  readonly maxBackoffMs?: number;
  /** Per-attempt timeout when the caller's deadline allows more. @default 30000 */
  readonly timeoutMs?: number;
}

interface Response {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

/**
 * KubeClient over HTTP(S) with one keep-alive agent per cluster. Credentials come from
 * @kubernetes/client-node's KubeConfig (or the EKS token provider); requests do not go through
 * client-node's generated clients, which open a new agent (and TLS handshake) per call and re-serialise
 * typed objects through models that drop fields they do not know (see BENCHMARKS.md).
 */
export class HttpKubeClient implements KubeClient {
  private agent?: HttpAgent | HttpsAgent;
  private discovery?: Map<string, ResourceInfo>;
  private readonly counts: Record<string, number> = {};
  private readonly opts: Required<HttpKubeClientOptions>;

  constructor(
    private readonly conn: ClusterConnection,
    options: HttpKubeClientOptions = {},
  ) {
    this.opts = { maxSockets: 16, attempts: 5, backoffMs: 200, maxBackoffMs: 5000, timeoutMs: 30_000, ...options };
  }

  get requestCounts(): Readonly<Record<string, number>> {
    return this.counts;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  async discover(options: CallOptions & { refresh?: boolean } = {}): Promise<ReadonlyMap<string, ResourceInfo>> {
    if (this.discovery && !options.refresh) return this.discovery;
    const map = new Map<string, ResourceInfo>();
    // Both lists at once: one round trip, not two (every CLI run starts with them).
    const [core, groups] = await Promise.all([
      this.call('GET', '/api', { verb: 'discovery', accept: AGGREGATED, ...options }),
      this.call('GET', '/apis', { verb: 'discovery', accept: AGGREGATED, ...options }),
    ]);
    if (isAggregated(core) && isAggregated(groups)) {
      for (const res of [core, groups]) addAggregated(map, JSON.parse(res.body) as AggregatedList);
    } else {
      // Servers before 1.27 (or with aggregation off): one request per group version.
      const v1 = JSON.parse((await this.call('GET', '/api/v1', { verb: 'discovery', ...options })).body) as ResourceList;
      addResourceList(map, v1);
      const list = JSON.parse(groups.body) as { groups?: { versions: { groupVersion: string }[] }[] };
      for (const g of list.groups ?? []) {
        for (const v of g.versions) {
          const res = await this.call('GET', `/apis/${v.groupVersion}`, { verb: 'discovery', ...options, allow404: true });
          if (res.status === 200) addResourceList(map, JSON.parse(res.body) as ResourceList);
        }
      }
    }
    this.discovery = map;
    return map;
  }

  async serverVersion(options: CallOptions = {}): Promise<string> {
    const res = await this.call('GET', '/version', { verb: 'discovery', ...options });
    return String((JSON.parse(res.body) as { gitVersion?: unknown }).gitVersion ?? '');
  }

  async apply(loc: ObjectLocation, obj: KubeObject, options: ApplyOptions): Promise<ApplyResult> {
    const query = new URLSearchParams({ fieldManager: options.fieldManager });
    if (options.force) query.set('force', 'true');
    if (options.dryRun) query.set('dryRun', 'All');
    const res = await this.call('PATCH', `${objectPath(loc)}?${query.toString()}`, {
      verb: options.dryRun ? 'dry-run apply' : 'apply',
      body: JSON.stringify(obj),
      contentType: 'application/apply-patch+yaml',
      signal: options.signal,
    });
    return { object: JSON.parse(res.body) as KubeObject, created: res.status === 201 };
  }

  async get(loc: ObjectLocation, options: CallOptions = {}): Promise<KubeObject | undefined> {
    const res = await this.call('GET', objectPath(loc), { verb: 'get', ...options, allow404: true });
    return res.status === 404 ? undefined : (JSON.parse(res.body) as KubeObject);
  }

  async list(info: ResourceInfo, namespace: string | undefined, labelSelector: string, options: CallOptions = {}): Promise<KubeObject[]> {
    const path = `${collectionPath(info, namespace)}${labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : ''}`;
    const res = await this.call('GET', path, { verb: 'list', ...options });
    const apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    const body = JSON.parse(res.body) as { items?: KubeObject[] };
    return (body.items ?? []).map((o) => ({ apiVersion, kind: info.kind, ...o }));
  }

  async delete(loc: ObjectLocation, options: CallOptions & { preconditions?: DeletePreconditions } = {}): Promise<'deleted' | 'not-found'> {
    const { preconditions, ...call } = options;
    const body = preconditions ? { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', preconditions }) } : {};
    const res = await this.call('DELETE', `${objectPath(loc)}?propagationPolicy=Background`, { verb: 'delete', ...call, ...body, allow404: true });
    return res.status === 404 ? 'not-found' : 'deleted';
  }

  private async call(
    method: string,
    path: string,
    o: { verb: string; body?: string; contentType?: string; accept?: string; signal?: AbortSignal; allow404?: boolean },
  ): Promise<Response> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      o.signal?.throwIfAborted();
      this.counts[o.verb] = (this.counts[o.verb] ?? 0) + 1;
      let wait = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (attempt - 1));
      try {
        const res = await this.send(method, path, o);
        if (res.status < 400 || (o.allow404 && res.status === 404)) return res;
        const err = toApiError(res);
        if (!RETRYABLE_STATUS.has(res.status) || attempt === this.opts.attempts) throw err;
        lastError = err;
        const retryAfter = Number(res.headers['retry-after']);
        if (res.status === 429 && Number.isFinite(retryAfter)) wait = Math.min(this.opts.maxBackoffMs, retryAfter * 1000);
      } catch (err) {
        if (err instanceof KubeApiError && !RETRYABLE_STATUS.has(err.status)) throw err;
        if ((err as Error).name === 'AbortError' || o.signal?.aborted) throw deadline(method, path, err);
        lastError = err;
        if (attempt === this.opts.attempts) break;
      }
      await sleep(wait * (0.8 + Math.random() * 0.4), o.signal).catch((err: unknown) => {
        throw deadline(method, path, err);
      });
    }
    if (lastError instanceof KubeApiError) throw lastError;
    throw new KubeApiError(
      0,
      'Unreachable',
      `${method} ${this.conn.server}${path.split('?')[0]}: ${(lastError as Error)?.message ?? 'failed'}`,
      [],
      {},
      {
        cause: lastError,
      },
    );
  }

  private async send(method: string, path: string, o: { body?: string; contentType?: string; accept?: string; signal?: AbortSignal }): Promise<Response> {
    const creds = await this.conn.credentials();
    const url = new URL(path, this.conn.server.replace(/\/$/, '') + '/');
    const base = new URL(this.conn.server);
    url.pathname = `${base.pathname.replace(/\/$/, '')}${path.split('?')[0]}`;
    const https = url.protocol === 'https:';
    this.agent ??= https
      ? new HttpsAgent({
          keepAlive: true,
          maxSockets: this.opts.maxSockets,
          ...(creds.ca ? { ca: creds.ca } : {}),
          ...(creds.cert ? { cert: creds.cert } : {}),
          ...(creds.key ? { key: creds.key } : {}),
          ...(creds.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
          ...(creds.servername ? { servername: creds.servername } : {}),
        })
      : new HttpAgent({ keepAlive: true, maxSockets: this.opts.maxSockets });
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
    return new Promise<Response>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        url,
        {
          method,
          agent: this.agent,
          signal,
          headers: {
            ...creds.headers,
            accept: o.accept ?? 'application/json',
            ...(o.body !== undefined ? { 'content-type': o.contentType ?? 'application/json', 'content-length': Buffer.byteLength(o.body) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(o.body);
    });
  }
}

const deadline = (method: string, path: string, cause: unknown): KubeApiError =>
  new KubeApiError(0, 'Timeout', `${method} ${path.split('?')[0]}: deadline reached`, [], {}, { cause });

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

const toApiError = (res: Response): KubeApiError => {
  try {
    const body = JSON.parse(res.body) as { reason?: string; message?: string; details?: { causes?: KubeCause[] } & Record<string, unknown> };
    return new KubeApiError(res.status, body.reason ?? '', body.message ?? res.body, body.details?.causes ?? [], body.details ?? {});
  } catch {
    return new KubeApiError(res.status, res.status === 404 ? 'NotFound' : '', res.body.trim());
  }
};

const isAggregated = (res: Response): boolean => res.status === 200 && String(res.headers['content-type'] ?? '').includes('as=APIGroupDiscoveryList');

interface AggregatedList {
  items: { metadata: { name?: string }; versions: { version: string; resources: { resource: string; scope: string; responseKind?: { kind: string } }[] }[] }[];
}
interface ResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean }[];
}

const addAggregated = (map: Map<string, ResourceInfo>, list: AggregatedList): void => {
  for (const g of list.items) {
    const group = g.metadata.name ?? '';
    for (const v of g.versions) {
      for (const r of v.resources) {
        const kind = r.responseKind?.kind;
        if (!kind) continue;
        const apiVersion = group ? `${group}/${v.version}` : v.version;
        map.set(`${apiVersion}/${kind}`, { group, version: v.version, kind, resource: r.resource, namespaced: r.scope === 'Namespaced' });
      }
    }
  }
};

const addResourceList = (map: Map<string, ResourceInfo>, list: ResourceList): void => {
  const [group, version] = list.groupVersion.includes('/') ? (list.groupVersion.split('/') as [string, string]) : ['', list.groupVersion];
  for (const r of list.resources) {
    if (r.name.includes('/')) continue;
    map.set(`${list.groupVersion}/${r.kind}`, { group, version, kind: r.kind, resource: r.name, namespaced: r.namespaced });
  }
};

const collectionPath = (info: ResourceInfo, namespace: string | undefined): string => {
  const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
  return info.namespaced && namespace ? `${prefix}/namespaces/${encodeURIComponent(namespace)}/${info.resource}` : `${prefix}/${info.resource}`;
};

/** The URL path of an object. */
export const objectPath = (loc: ObjectLocation): string => `${collectionPath(loc.info, loc.namespace)}/${encodeURIComponent(loc.name)}`;
