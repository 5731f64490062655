import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { KubeApiServerOptions } from '../test/kube-api-server/server.js';

/** The methods of the sandbox API server a benchmark calls across the process boundary. */
type Remote = {
  kubeconfig(): Promise<string>;
  counts(): Promise<Record<string, number>>;
  resetLog(): Promise<void>;
  createNamespace(name: string): Promise<void>;
  stop(): Promise<void>;
};

/**
 * The sandbox API server in a process of its own, as a real API server is: its work (parsing, field sets,
 * serialising) does not share the client's event loop or core. Calls go over the child's IPC channel.
 */
export const startSandboxProcess = async (options: KubeApiServerOptions): Promise<Remote> => {
  const child: ChildProcess = fork(join(import.meta.dirname, 'sandbox-child.ts'), [JSON.stringify(options)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (m: { id: number; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.error !== undefined) w?.reject(new Error(`sandbox process: ${m.error}`));
    else w?.resolve(m.value);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`sandbox process exited (${String(code)})`));
    waiting.clear();
  });
  const call = (method: string, ...args: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++next;
      waiting.set(id, { resolve, reject });
      child.send({ id, method, args });
    });
  await call('start');
  return {
    kubeconfig: () => call('kubeconfig') as Promise<string>,
    counts: () => call('counts') as Promise<Record<string, number>>,
    resetLog: () => call('resetLog') as Promise<void>,
    createNamespace: (name) => call('createNamespace', name) as Promise<void>,
    stop: async () => {
      await call('stop');
      child.disconnect();
      await exited;
    },
  };
};
