/**
 * Drift vocabulary and the Kubernetes comparison, importable from here: the types live in lib/core/drift.ts,
 * the field comparison with the Kubernetes adapter (lib/targets/kubernetes/kubernetes-drift.ts).
 */
export { fingerprintOf, type DriftReport, type FieldDrift, type ObjectDrift } from '../core/drift.js';
export { driftReport, fieldDrifts } from '../targets/kubernetes/kubernetes-drift.js';
