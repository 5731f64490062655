import { describe, expect, it } from 'vitest';
import { connectionFromKubeconfig } from '../../../lib/targets/kubernetes/cluster-access.js';

const kubeconfig = (user: string) => `apiVersion: v1
kind: Config
current-context: c
clusters:
- name: c
  cluster:
    server: https://10.0.0.1:6443
contexts:
- name: c
  context: {cluster: c, user: u}
- name: other
  context: {cluster: c, user: u}
users:
- name: u
  user:
${user}
`;

describe('connectionFromKubeconfig', () => {
  it('uses a token from the kubeconfig', async () => {
    const conn = await connectionFromKubeconfig({ contents: kubeconfig('    token: abc'), allowPlugins: false });
    expect(conn.server).toBe('https://10.0.0.1:6443');
    expect((await conn.credentials()).headers.Authorization ?? (await conn.credentials()).headers.authorization).toBe('Bearer abc');
  });

  it.each([
    ['exec', '    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token]'],
    ['auth-provider', '    auth-provider:\n      name: oidc\n      config: {}'],
  ])('refuses a user that needs an %s plugin where plugins may not run (Lambda)', async (kind, user) => {
    await expect(connectionFromKubeconfig({ contents: kubeconfig(user), allowPlugins: false })).rejects.toThrow(`user "u" needs an ${kind} plugin, which is not run in Lambda`);
  });

  it('accepts an exec plugin in the CLI', async () => {
    const conn = await connectionFromKubeconfig({
      contents: kubeconfig('    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: true'),
      allowPlugins: true,
    });
    expect(conn.server).toBe('https://10.0.0.1:6443');
  });

  it('fails on a context that does not exist, listing the ones that do', async () => {
    await expect(connectionFromKubeconfig({ contents: kubeconfig('    token: abc'), context: 'nope', allowPlugins: false })).rejects.toThrow('no context "nope" (have: c, other)');
  });
});
