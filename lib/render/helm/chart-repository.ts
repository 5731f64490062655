import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RenderError } from '../../core/errors.js';

/** A chart of a chart repository (`https://…` with an index.yaml) or an OCI registry (`oci://host/path`). */
export interface ChartRef {
  readonly repository: string;
  readonly name: string;
  readonly version: string;
}

/** Repository credentials, from the environment (local) or Secrets Manager (deployed); never from a repository. */
export interface RepositoryCredentials {
  readonly username: string;
  readonly password: string;
}
export type CredentialsFor = (repository: string) => Promise<RepositoryCredentials | undefined>;

/**
 * Where pulled charts are kept, by content digest, and which digest a (repository, chart, version) resolved to.
 * Locally a directory (`.driftless/cache/helm`); deployed, the same layout under the artifact bucket.
 */
export interface ChartCache {
  /** The digest a chart reference resolved to when it was first pulled. */
  getRef(key: string): Promise<string | undefined>;
  putRef(key: string, digest: string): Promise<void>;
  getBlob(digest: string): Promise<Uint8Array | undefined>;
  putBlob(digest: string, bytes: Uint8Array): Promise<void>;
}

/** A chart cache in a local directory. */
export class DirectoryChartCache implements ChartCache {
  constructor(readonly dir: string) {}

  private file(kind: 'refs' | 'blobs', name: string): string {
    return join(this.dir, kind, name.replace(/[^A-Za-z0-9._-]/g, '_'));
  }

  async getRef(key: string): Promise<string | undefined> {
    const f = this.file('refs', key);
    return existsSync(f) ? readFileSync(f, 'utf8').trim() : undefined;
  }

  async putRef(key: string, digest: string): Promise<void> {
    write(this.file('refs', key), digest);
  }

  async getBlob(digest: string): Promise<Uint8Array | undefined> {
    const f = this.file('blobs', digest);
    return existsSync(f) ? readFileSync(f) : undefined;
  }

  async putBlob(digest: string, bytes: Uint8Array): Promise<void> {
    write(this.file('blobs', digest), bytes);
  }
}

const write = (file: string, data: string | Uint8Array): void => {
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
};

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Checks a repository URL: https or oci, or plain http to a loopback address (a local test repository). */
export const checkRepositoryUrl = (repository: string): URL => {
  let url: URL;
  try {
    url = new URL(repository);
  } catch {
    throw new RenderError('helm.chart.repository', `"${repository}" is not a URL`);
  }
  const ok = url.protocol === 'https:' || url.protocol === 'oci:' || (url.protocol === 'http:' && LOOPBACK.test(url.hostname));
  if (!ok || url.username || url.password || url.search || url.hash) {
    throw new RenderError('helm.chart.repository', `"${repository}" must be an https:// or oci:// URL without credentials`);
  }
  return url;
};

const label = (ref: ChartRef): string => `${ref.repository.replace(/\/$/, '')}/${ref.name}:${ref.version}`;

/** A pulled chart archive, verified against its digest. */
export interface PulledChart {
  readonly digest: string;
  readonly bytes: Uint8Array;
}

/**
 * Pulls a chart once per (repository, chart, version): the first pull resolves the digest (the index's
 * `digest`, or the OCI manifest's chart layer), downloads and verifies the archive, and caches both; later
 * pulls read the cache and verify the archive against the recorded digest again.
 */
export const pullChart = async (ref: ChartRef, deps: { cache: ChartCache; credentials?: CredentialsFor; fetch?: typeof fetch }): Promise<PulledChart> => {
  const url = checkRepositoryUrl(ref.repository);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(ref.name)) throw new RenderError(label(ref), `chart name "${ref.name}" is not a chart name`);
  if (!/^[A-Za-z0-9][A-Za-z0-9.+_-]*$/.test(ref.version)) throw new RenderError(label(ref), `chart version "${ref.version}" is not a version`);
  const key = `${ref.repository.replace(/\/$/, '')}|${ref.name}|${ref.version}`;
  const refKey = createHash('sha256').update(key).digest('hex');
  const known = await deps.cache.getRef(refKey);
  if (known) {
    const bytes = await deps.cache.getBlob(known);
    if (bytes && sha256(bytes) === known) return { digest: known, bytes };
  }
  const creds = await deps.credentials?.(ref.repository.replace(/\/$/, ''));
  const f = deps.fetch ?? fetch;
  const pulled = url.protocol === 'oci:' ? await pullOci(ref, url, f, creds) : await pullHttp(ref, f, creds);
  if (known && pulled.digest !== known) {
    throw new RenderError(label(ref), `chart digest changed from ${known} to ${pulled.digest}; a published version must not change`);
  }
  await deps.cache.putBlob(pulled.digest, pulled.bytes);
  await deps.cache.putRef(refKey, pulled.digest);
  return pulled;
};

const basic = (c: RepositoryCredentials): string => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

const get = async (f: typeof fetch, url: string, ref: ChartRef, headers: Record<string, string>): Promise<Response> => {
  try {
    return await f(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(60_000) });
  } catch (cause) {
    throw new RenderError(label(ref), `cannot reach ${new URL(url).origin}: ${(cause as Error).message}`, undefined, { cause });
  }
};

interface IndexEntry {
  version?: string;
  urls?: string[];
  digest?: string;
}

const pullHttp = async (ref: ChartRef, f: typeof fetch, creds?: RepositoryCredentials): Promise<PulledChart> => {
  const base = ref.repository.endsWith('/') ? ref.repository : `${ref.repository}/`;
  const headers: Record<string, string> = creds ? { authorization: basic(creds) } : {};
  const res = await get(f, new URL('index.yaml', base).href, ref, headers);
  if (!res.ok) throw new RenderError(label(ref), `${base}index.yaml: HTTP ${res.status}`);
  const index = parse(await res.text()) as { entries?: Record<string, IndexEntry[]> } | null;
  const versions = index?.entries?.[ref.name];
  if (!versions) throw new RenderError(label(ref), `chart "${ref.name}" not found in ${ref.repository}`);
  const entry = versions.find((v) => v.version === ref.version);
  if (!entry) {
    const some = versions
      .map((v) => v.version)
      .slice(0, 10)
      .join(', ');
    throw new RenderError(label(ref), `chart "${ref.name}" version "${ref.version}" not found in ${ref.repository} (versions: ${some})`);
  }
  const chartUrl = entry.urls?.[0];
  if (!chartUrl) throw new RenderError(label(ref), 'the index lists no URL for this version');
  if (!entry.digest || !/^[0-9a-f]{64}$/.test(entry.digest)) throw new RenderError(label(ref), 'the index lists no sha256 digest for this version');
  const abs = new URL(chartUrl, base);
  // Credentials go only to the repository's own origin.
  const chartRes = await get(f, abs.href, ref, abs.origin === new URL(base).origin ? headers : {});
  if (!chartRes.ok) throw new RenderError(label(ref), `${abs.href}: HTTP ${chartRes.status}`);
  const bytes = new Uint8Array(await chartRes.arrayBuffer());
  const digest = sha256(bytes);
  if (digest !== `sha256:${entry.digest}`) throw new RenderError(label(ref), `digest mismatch: the index says sha256:${entry.digest}, the archive is ${digest}`);
  return { digest, bytes };
};

const HELM_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

const pullOci = async (ref: ChartRef, url: URL, f: typeof fetch, creds?: RepositoryCredentials): Promise<PulledChart> => {
  const scheme = LOOPBACK.test(url.hostname) ? 'http' : 'https';
  const repoPath = `${url.pathname.replace(/^\/+|\/+$/g, '')}/${ref.name}`.replace(/^\//, '');
  const origin = `${scheme}://${url.host}`;
  let auth: string | undefined = creds ? basic(creds) : undefined;
  const call = async (path: string, accept?: string): Promise<Response> => {
    const headers: Record<string, string> = { ...(accept ? { accept } : {}), ...(auth ? { authorization: auth } : {}) };
    let res = await get(f, `${origin}${path}`, ref, headers);
    const challenge = res.headers.get('www-authenticate');
    if (res.status === 401 && challenge && /^Bearer /i.test(challenge)) {
      auth = await bearerToken(f, ref, challenge, creds);
      res = await get(f, `${origin}${path}`, ref, { ...(accept ? { accept } : {}), authorization: auth });
    }
    return res;
  };
  // Helm stores a version's "+" as "_" in the tag (OCI tags cannot hold "+").
  const tag = ref.version.replace(/\+/g, '_');
  const manifestRes = await call(`/v2/${repoPath}/manifests/${tag}`, 'application/vnd.oci.image.manifest.v1+json');
  if (manifestRes.status === 404) throw new RenderError(label(ref), `chart "${ref.name}" version "${ref.version}" not found in ${ref.repository}`);
  if (!manifestRes.ok) throw new RenderError(label(ref), `manifest: HTTP ${manifestRes.status}`);
  const manifest = (await manifestRes.json()) as { layers?: { mediaType?: string; digest?: string }[] };
  const layer = manifest.layers?.find((l) => l.mediaType === HELM_LAYER);
  if (!layer?.digest || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) throw new RenderError(label(ref), 'the manifest has no Helm chart layer');
  const blobRes = await call(`/v2/${repoPath}/blobs/${layer.digest}`);
  if (!blobRes.ok) throw new RenderError(label(ref), `chart layer: HTTP ${blobRes.status}`);
  const bytes = new Uint8Array(await blobRes.arrayBuffer());
  const digest = sha256(bytes);
  if (digest !== layer.digest) throw new RenderError(label(ref), `digest mismatch: the manifest says ${layer.digest}, the layer is ${digest}`);
  return { digest, bytes };
};

const bearerToken = async (f: typeof fetch, ref: ChartRef, challenge: string, creds?: RepositoryCredentials): Promise<string> => {
  const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2]] as const));
  if (!params.realm) throw new RenderError(label(ref), 'the registry asks for a token without a realm');
  const u = new URL(params.realm);
  if (params.service) u.searchParams.set('service', params.service);
  if (params.scope) u.searchParams.set('scope', params.scope);
  const res = await get(f, u.href, ref, creds ? { authorization: basic(creds) } : {});
  if (!res.ok) throw new RenderError(label(ref), `registry token: HTTP ${res.status}${creds ? '' : ' (no credentials for this repository in DRIFTLESS_HELM_CREDENTIALS)'}`);
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new RenderError(label(ref), 'registry token: no token in the answer');
  return `Bearer ${token}`;
};

/**
 * Credentials from `DRIFTLESS_HELM_CREDENTIALS`: JSON `{ "<repository URL>": { "username": …, "password": … } }`.
 * Deployed, the reconcile function reads the same JSON from the Secrets Manager secret it is given.
 */
export const credentialsFromJson = (json: string | undefined): CredentialsFor => {
  let table: Record<string, RepositoryCredentials> = {};
  if (json) {
    try {
      table = JSON.parse(json) as Record<string, RepositoryCredentials>;
    } catch {
      throw new RenderError('DRIFTLESS_HELM_CREDENTIALS', 'is not JSON');
    }
  }
  return async (repository) => {
    const own = (key: string) => (Object.hasOwn(table, key) ? table[key] : undefined);
    const c = own(repository) ?? own(`${repository}/`);
    return c && typeof c.username === 'string' && typeof c.password === 'string' ? c : undefined;
  };
};
