/**
 * Runs the test API server on its own: `npx tsx test/kube-api-server/main.ts [KUBECONFIG_OUT] [--latency MS]`.
 * Writes a kubeconfig (context "test") for it, and serves until killed.
 */
import { writeFileSync } from 'node:fs';
import { KubeApiServer } from './server.js';

const args = process.argv.slice(2);
const latencyAt = args.indexOf('--latency');
const latencyMs = latencyAt >= 0 ? Number(args[latencyAt + 1]) : 0;
const out = args.find((a, i) => !a.startsWith('--') && (latencyAt < 0 || i !== latencyAt + 1)) ?? 'kubeconfig.test.yaml';
const server = new KubeApiServer({ latencyMs, namespaceController: true });
await server.start();
writeFileSync(out, server.kubeconfig());
console.log(`test API server on ${server.url}; kubeconfig written to ${out} (context "test")`);
