import type { KubeObject } from '../../lib/core/object-ref.js';
import { connectionFromKubeconfig } from '../../lib/targets/kubernetes/cluster-access.js';
import { HttpKubeClient } from '../../lib/targets/kubernetes/http-kube-client.js';
import { KubernetesTarget, type KubernetesTargetOptions } from '../../lib/targets/kubernetes/kubernetes-target.js';
import { KubeApiServer, type KubeApiServerOptions } from '../kube-api-server/server.js';

/** A started test API server with a client on it. */
export const startCluster = async (options: KubeApiServerOptions = {}) => {
  const server = new KubeApiServer(options);
  await server.start();
  const client = new HttpKubeClient(await connectionFromKubeconfig({ contents: server.kubeconfig(), allowPlugins: false }), { backoffMs: 10 });
  return {
    server,
    client,
    target: (o: Partial<KubernetesTargetOptions> = {}) => new KubernetesTarget(client, { id: 'acme/shop/web', namespace: 'shop', pollMs: 20, ...o }),
    async stop() {
      client.close();
      await server.stop();
    },
  };
};

export const namespace = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
export const configMap = (name: string, data: Record<string, string> = { k: 'v' }, ns?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(ns ? { namespace: ns } : {}) },
  data,
});
export const deployment = (name: string, extra: { replicas?: number; image?: string; namespace?: string } = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}) },
  spec: {
    ...(extra.replicas !== undefined ? { replicas: extra.replicas } : {}),
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: extra.image ?? 'nginx:1.25' }] } },
  },
});
