import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'yaml';
import { ReconcilerStack, type DriftFanOut, type RegistryJson, type ReservedConcurrency } from './stacks/reconciler-stack.js';

/**
 * The CDK app. Context: `registry` (JSON) or `registryFile` (a YAML/JSON file; default infra/registry.example.json),
 * `driftRateMinutes` (15), `reservedConcurrency` (JSON `{webhook, reconcile, drift}` over the defaults 20, 20, 10,
 * or `false` for none), `drift` (JSON `{maxConcurrency, perCluster, batchSize, maxReceiveCount}` over 8, 4, 10, 3),
 * `reconcileReservedConcurrency` (deprecated), `stackName` (Driftless), `vpc` (JSON:
 * vpcId, availabilityZones, subnetIds, securityGroupId). Synth works offline, with no credentials.
 */
const app = new App();
const ctx = (k: string): unknown => app.node.tryGetContext(k);
const asJson = <T>(v: unknown): T | undefined => (v === undefined ? undefined : typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const registryFile = String(ctx('registryFile') ?? join(import.meta.dirname, 'registry.example.json'));
const registry = asJson<RegistryJson>(ctx('registry')) ?? (parse(readFileSync(resolve(registryFile), 'utf8')) as RegistryJson);
const vpc = asJson<{ vpcId: string; availabilityZones: string[]; subnetIds: string[]; securityGroupId: string }>(ctx('vpc'));
const concurrency = ctx('reconcileReservedConcurrency');
const reserved = asJson<ReservedConcurrency | false>(ctx('reservedConcurrency'));
const drift = asJson<DriftFanOut>(ctx('drift'));
new ReconcilerStack(app, String(ctx('stackName') ?? 'Driftless'), {
  registry,
  driftRateMinutes: Number(ctx('driftRateMinutes') ?? 15),
  ...(concurrency !== undefined ? { reconcileReservedConcurrency: Number(concurrency) } : {}),
  ...(reserved !== undefined ? { reservedConcurrency: reserved } : {}),
  ...(drift ? { drift } : {}),
  ...(vpc ? { vpc } : {}),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
