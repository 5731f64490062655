import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { isMap } from '../../core/plain-object.js';
import type { Credentials } from './http-kube-client.js';

/** A kubeconfig context resolved without @kubernetes/client-node: where the cluster is and the TLS and header material to reach it. */
export interface PlainKubeconfig {
  readonly contexts: readonly string[];
  readonly currentContext: string | undefined;
  /** The chosen context's cluster and user, or why this reader leaves the context to @kubernetes/client-node. */
  select(context: string | undefined): { server: string; userName: string | undefined; credentials: Credentials } | { delegate: string } | { missing: string };
}

/** Cluster fields this reader understands; any other field (proxy-url, extensions that matter) leaves the context to client-node. */
const CLUSTER_KEYS = new Set(['server', 'certificate-authority', 'certificate-authority-data', 'insecure-skip-tls-verify', 'tls-server-name', 'extensions']);
/** User fields this reader understands: static tokens and client certificates. Plugins, token files and the rest go to client-node. */
const USER_KEYS = new Set(['token', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password', 'extensions']);

const named = (list: unknown, key: string): Map<string, Record<string, unknown>> => {
  const out = new Map<string, Record<string, unknown>>();
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (isMap(item) && typeof item.name === 'string' && !out.has(item.name)) out.set(item.name, isMap(item[key]) ? item[key] : {});
  }
  return out;
};

/**
 * Reads a kubeconfig of one file (or given contents) with the bundled YAML parser: the CLI's start-up otherwise
 * pays ~0.5 s for loading @kubernetes/client-node's config module. Only the plain cases are handled here (a
 * server, its CA, a static token or client certificate, basic auth); anything else (exec and auth-provider
 * plugins, token files, proxies, a KUBECONFIG list of several files, no file at all) returns undefined or a
 * `delegate` answer, and the caller uses client-node as before. Relative paths are taken from the file's
 * directory, as kubectl does.
 */
export const readPlainKubeconfig = (src: { file?: string; contents?: string }, env: Record<string, string | undefined> = process.env): PlainKubeconfig | undefined => {
  let text: string;
  let root: string;
  if (src.contents !== undefined) {
    text = src.contents;
    root = process.cwd();
  } else {
    const fromEnv = env.KUBECONFIG?.split(delimiter).filter(Boolean);
    if (!src.file && fromEnv && fromEnv.length !== 1) return undefined;
    const file = src.file ?? fromEnv?.[0] ?? join(homedir(), '.kube', 'config');
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined; // client-node says why (or finds the in-cluster config)
    }
    root = dirname(file);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (!isMap(doc)) return undefined;
  const contexts = named(doc.contexts, 'context');
  const clusters = named(doc.clusters, 'cluster');
  const users = named(doc.users, 'user');
  const file = (p: unknown): Buffer => readFileSync(isAbsolute(String(p)) ? String(p) : join(root, String(p)));
  const data = (inline: unknown, path: unknown): Buffer | undefined =>
    typeof inline === 'string' && inline ? Buffer.from(inline, 'base64') : typeof path === 'string' && path ? file(path) : undefined;
  return {
    contexts: [...contexts.keys()],
    currentContext: typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined,
    select(name) {
      const ctxName = name ?? (typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined);
      const ctx = ctxName === undefined ? undefined : contexts.get(ctxName);
      if (!ctx) return ctxName !== undefined && name !== undefined ? { missing: ctxName } : { delegate: 'no current context' };
      const cluster = typeof ctx.cluster === 'string' ? clusters.get(ctx.cluster) : undefined;
      if (!cluster || typeof cluster.server !== 'string' || !cluster.server) return { delegate: 'no cluster server' };
      const unknownCluster = Object.keys(cluster).find((k) => !CLUSTER_KEYS.has(k));
      if (unknownCluster) return { delegate: `cluster field ${unknownCluster}` };
      const userName = typeof ctx.user === 'string' ? ctx.user : undefined;
      const user = userName === undefined ? {} : users.get(userName);
      if (!user) return { delegate: `no user ${String(userName)}` };
      const unknownUser = Object.keys(user).find((k) => !USER_KEYS.has(k));
      if (unknownUser) return { delegate: `user field ${unknownUser}` };
      const headers: Record<string, string> = {};
      if (typeof user.token === 'string' && user.token) headers.Authorization = `Bearer ${user.token}`;
      else if (typeof user.username === 'string' && user.username) {
        headers.authorization = `Basic ${Buffer.from(`${user.username}:${typeof user.password === 'string' ? user.password : ''}`).toString('base64')}`;
      }
      const ca = data(cluster['certificate-authority-data'], cluster['certificate-authority']);
      const cert = data(user['client-certificate-data'], user['client-certificate']);
      const key = data(user['client-key-data'], user['client-key']);
      const skip = cluster['insecure-skip-tls-verify'] === true;
      const servername = typeof cluster['tls-server-name'] === 'string' && cluster['tls-server-name'] ? cluster['tls-server-name'] : undefined;
      return {
        server: cluster.server,
        userName,
        credentials: {
          headers,
          ...(ca ? { ca } : {}),
          ...(cert ? { cert } : {}),
          ...(key ? { key } : {}),
          ...(skip ? { rejectUnauthorized: false } : {}),
          ...(servername ? { servername } : {}),
        },
      };
    },
  };
};
