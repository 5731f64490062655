/** Cluster-scoped kinds moved to lib/core (config and the Kubernetes adapter use them too); re-exported for render. */
export * from '../core/cluster-scope.js';
