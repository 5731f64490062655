import { ReconcilerError } from '../../core/errors.js';
import type { KubeObject } from '../../core/object-ref.js';

/** How the API server serves a kind. */
export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name in URLs (`deployments`). */
  readonly resource: string;
  readonly namespaced: boolean;
}

/** Where an object lives in the API. */
export interface ObjectLocation {
  readonly info: ResourceInfo;
  readonly namespace?: string;
  readonly name: string;
}

export interface CallOptions {
  /** Deadline for the call, retries included. */
  readonly signal?: AbortSignal;
}

export interface ApplyOptions extends CallOptions {
  readonly fieldManager: string;
  readonly force: boolean;
  readonly dryRun: boolean;
}

/** The result of an apply: the object the server returned and whether it was created. */
export interface ApplyResult {
  readonly object: KubeObject;
  readonly created: boolean;
}

/**
 * The narrow interface of everything driftless asks of a Kubernetes API server. One implementation talks
 * HTTP(S) with credentials from @kubernetes/client-node; tests point it at the local test API server.
 */
export interface KubeClient {
  /** The server's resources, keyed by `apiVersion/Kind` (one or two discovery requests, cached). */
  discover(options?: CallOptions & { refresh?: boolean }): Promise<ReadonlyMap<string, ResourceInfo>>;
  /** The server's `/version` gitVersion (`v1.31.2`); optional for clients that cannot tell. */
  serverVersion?(options?: CallOptions): Promise<string>;
  /** Server-side apply. */
  apply(loc: ObjectLocation, obj: KubeObject, options: ApplyOptions): Promise<ApplyResult>;
  /** GET an object; undefined when it does not exist. */
  get(loc: ObjectLocation, options?: CallOptions): Promise<KubeObject | undefined>;
  /** LIST objects of a kind (in one namespace, or cluster-wide) matching a label selector. */
  list(info: ResourceInfo, namespace: string | undefined, labelSelector: string, options?: CallOptions): Promise<KubeObject[]>;
  /**
   * DELETE an object (background propagation); 'not-found' when it was already gone. With `preconditions`
   * the server deletes only the object of that uid and resourceVersion (409 Conflict otherwise).
   */
  delete(loc: ObjectLocation, options?: CallOptions & { preconditions?: DeletePreconditions }): Promise<'deleted' | 'not-found'>;
  /** Requests made so far, by verb (`get`, `list`, `apply`, `dry-run apply`, `delete`, `discovery`). */
  readonly requestCounts: Readonly<Record<string, number>>;
}

/** DeleteOptions.preconditions: the object a DELETE is meant for. */
export interface DeletePreconditions {
  readonly uid?: string;
  readonly resourceVersion?: string;
}

/** One cause of an API error (`details.causes[]`). */
export interface KubeCause {
  readonly reason?: string;
  readonly message?: string;
  readonly field?: string;
}

/** An error answer from the API server (or a failure to reach it), with the server's own words. */
export class KubeApiError extends ReconcilerError {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly apiMessage: string,
    readonly causes: readonly KubeCause[] = [],
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(`${status} ${reason}: ${apiMessage}`, options);
    this.name = 'KubeApiError';
  }

  /** For a 409 apply conflict: `field owned by "manager"` for each conflicting field. */
  get conflicts(): { manager: string; field: string }[] {
    return this.causes
      .filter((c) => c.reason === 'FieldManagerConflict')
      .map((c) => ({ manager: c.message?.match(/conflict with "([^"]+)"/)?.[1] ?? 'unknown', field: c.field ?? '' }));
  }

  /** A short description for change sets: names the conflicting managers and fields, or the server's message. */
  describe(): string {
    if (this.status === 409 && this.conflicts.length) {
      return `conflict: ${this.conflicts.map((c) => `${c.field} is owned by "${c.manager}"`).join(', ')}`;
    }
    return `${this.reason || this.status}: ${this.apiMessage}`;
  }
}

/** Whether an apply failed because the object's namespace does not exist (yet). */
export const isMissingNamespace = (err: unknown): boolean => err instanceof KubeApiError && err.status === 404 && err.details.kind === 'namespaces';
