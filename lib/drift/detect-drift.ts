/**
 * Drift vocabulary, importable from here: the types live in lib/core/drift.ts. The Kubernetes field comparison
 * (driftReport, fieldDrifts) is the adapter's own, in lib/targets/kubernetes/kubernetes-drift.ts.
 */
export { fingerprintOf, type DriftReport, type FieldDrift, type ObjectDrift } from '../core/drift.js';
