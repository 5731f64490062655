import { KubeApiServer, type KubeApiServerOptions } from '../test/kube-api-server/server.js';

// The child side of bench/sandbox-process.ts: one sandbox API server, its methods called over IPC.
const server = new KubeApiServer(JSON.parse(process.argv[2] ?? '{}') as KubeApiServerOptions);
const methods: Record<string, (...args: never[]) => unknown> = {
  start: () => server.start().then(() => undefined),
  kubeconfig: () => server.kubeconfig(),
  counts: () => server.counts(),
  resetLog: () => server.resetLog(),
  createNamespace: (name: string) => server.createNamespace(name),
  stop: () => server.stop(),
};
process.on('message', (m: { id: number; method: string; args: never[] }) => {
  const fn = methods[m.method];
  Promise.resolve()
    .then(() => {
      if (!fn) throw new Error(`no method ${m.method}`);
      return fn(...m.args);
    })
    .then(
      (value) => process.send?.({ id: m.id, value }),
      (err: unknown) => process.send?.({ id: m.id, error: (err as Error).message }),
    );
});
