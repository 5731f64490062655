/** Identity of a managed object; version is deliberately excluded (cli-utils ObjMetadata). */
export interface ObjectRef {
  /** '' for core Kubernetes, 'apps', …; 'cloudformation.aws' for stacks. */
  readonly group: string;
  readonly kind: string;
  /** Kubernetes namespace, or `${account}/${region}` for stacks. */
  readonly namespace?: string;
  readonly name: string;
}

/** Formats `Kind/namespace/name`, used in logs, errors, ledger and Slack. */
export const formatRef = (ref: ObjectRef): string => [ref.kind, ref.namespace, ref.name].filter(Boolean).join('/');

/** A Kubernetes object as rendered: plain JSON data. */
export type KubeObject = Record<string, unknown> & {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: unknown;
};

/** Splits `apiVersion` into group and version (`v1` → ['', 'v1']). */
export const splitApiVersion = (apiVersion: string): [group: string, version: string] => {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? ['', apiVersion] : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
};

/** The ObjectRef of a rendered object. */
export const refOf = (obj: KubeObject): ObjectRef => {
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  const [group] = splitApiVersion(String(obj.apiVersion ?? ''));
  const namespace = typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : undefined;
  return { group, kind: String(obj.kind ?? ''), ...(namespace ? { namespace } : {}), name: String(meta.name ?? '') };
};
