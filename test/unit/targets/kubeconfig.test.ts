import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readPlainKubeconfig } from '../../../lib/targets/kubernetes/kubeconfig.js';
import { connectionFromKubeconfig } from '../../../lib/targets/kubernetes/cluster-access.js';

const config = (cluster: string, user: string) => `apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster:
${cluster}
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: c, user: u}
users:
- name: u
  user:
${user}
`;

describe('readPlainKubeconfig (the kubeconfig without @kubernetes/client-node)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-kubeconfig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a token, the inline CA and the TLS flags of the current context', () => {
    const kc = readPlainKubeconfig({
      contents: config(
        '    server: https://10.0.0.1:6443\n    certificate-authority-data: Y2EtYnl0ZXM=\n    tls-server-name: api.internal\n    insecure-skip-tls-verify: true',
        '    token: abc',
      ),
    });
    const got = kc?.select(undefined);
    expect(got && 'server' in got ? got : undefined).toMatchObject({
      server: 'https://10.0.0.1:6443',
      userName: 'u',
      credentials: { headers: { Authorization: 'Bearer abc' }, rejectUnauthorized: false, servername: 'api.internal' },
    });
    expect(got && 'server' in got ? got.credentials.ca?.toString() : undefined).toBe('ca-bytes');
  });

  it('reads client certificate files relative to the kubeconfig, as kubectl does', () => {
    writeFileSync(join(dir, 'cert.pem'), 'CERT');
    writeFileSync(join(dir, 'key.pem'), 'KEY');
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    writeFileSync(join(dir, 'config'), config('    server: https://k:6443\n    certificate-authority: ca.pem', '    client-certificate: cert.pem\n    client-key: key.pem'));
    const got = readPlainKubeconfig({ file: join(dir, 'config') })?.select('b');
    if (!got || !('server' in got)) throw new Error(`not read: ${JSON.stringify(got)}`);
    expect([got.credentials.cert?.toString(), got.credentials.key?.toString(), got.credentials.ca?.toString()]).toEqual(['CERT', 'KEY', 'CA']);
    expect(got.credentials.headers).toEqual({});
  });

  it('leaves plugins, token files, proxies and several KUBECONFIG files to client-node', () => {
    const exec = readPlainKubeconfig({ contents: config('    server: https://k', '    exec:\n      command: aws') })?.select(undefined);
    expect(exec).toEqual({ delegate: 'user field exec' });
    expect(readPlainKubeconfig({ contents: config('    server: https://k', '    tokenFile: /t') })?.select(undefined)).toEqual({ delegate: 'user field tokenFile' });
    expect(readPlainKubeconfig({ contents: config('    server: https://k\n    proxy-url: http://p', '    token: x') })?.select(undefined)).toEqual({
      delegate: 'cluster field proxy-url',
    });
    expect(readPlainKubeconfig({}, { KUBECONFIG: ['/a', '/b'].join(':') })).toBeUndefined();
    expect(readPlainKubeconfig({ file: join(dir, 'missing') })).toBeUndefined();
  });

  it('names a missing context and the ones there are (through connectionFromKubeconfig)', async () => {
    await expect(connectionFromKubeconfig({ contents: config('    server: https://k', '    token: x'), context: 'nope', allowPlugins: false })).rejects.toThrow(
      'kubeconfig from the secret: no context "nope" (have: a, b)',
    );
    const conn = await connectionFromKubeconfig({ contents: config('    server: https://k', '    token: x'), context: 'b', allowPlugins: false });
    expect(conn.server).toBe('https://k');
    expect((await conn.credentials()).headers).toEqual({ Authorization: 'Bearer x' });
  });

  it('names an unreadable certificate file', async () => {
    writeFileSync(join(dir, 'config'), config('    server: https://k\n    certificate-authority: nowhere.pem', '    token: x'));
    await expect(connectionFromKubeconfig({ file: join(dir, 'config'), allowPlugins: false })).rejects.toThrow(/kubeconfig .*config: cannot be read: .*nowhere\.pem/);
  });
});
