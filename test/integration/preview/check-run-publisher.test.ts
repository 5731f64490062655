import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreviewReport } from '../../../lib/preview/preview-report.js';
import { checkRunPublisher, resultOf } from '../../../lib/preview/run-preview.js';
import { GitHubSource } from '../../../lib/source/github-source.js';
import type { CheckRuns } from '../../../lib/source/repository-source.js';
import { GitHubApiServer } from '../../github-api-server/server.js';

describe('the preview check run through GitHubApi, as the local GitHub endpoint validates it', () => {
  let dir: string;
  let server: GitHubApiServer;
  let sha: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'driftless-checkrun-'));
    const git = (...a: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { encoding: 'utf8' }).trim();
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, 'driftless.yaml'), 'version: 1\n');
    git('add', '-A');
    git('commit', '-qm', 'one');
    sha = git('rev-parse', 'HEAD');
    server = new GitHubApiServer('acme/shop', dir);
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes 120 annotations in requests of at most 50 (GitHub answers 422 above), all kept on the run, with the text under the limit', async () => {
    const privateKey = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    }).privateKey;
    const runs = (await new GitHubSource({ auth: { appId: 1, privateKey }, baseUrl: server.url }).checkRuns()) as CheckRuns;
    const annotations = Array.from({ length: 120 }, (_, i) => ({
      path: 'deploy/web/kustomization.yaml',
      line: i + 1,
      level: 'failure' as const,
      message: `error ${i}`,
      title: 'render failed',
    }));
    const report: PreviewReport = {
      repository: 'acme/shop',
      base: 'main',
      head: sha,
      targets: [{ target: 'web', type: 'kubernetes', change: 'modified', objects: [], unchanged: 0, blockers: ['render failed'], annotations }],
    };
    const publisher = checkRunPublisher(runs, { repository: 'acme/shop', baseBranch: 'main', headSha: sha, fork: false, trigger: 'pull_request' });
    await publisher.start();
    await publisher.finish(resultOf(report));
    const run = server.checkRuns.find((r) => r.head_sha === sha);
    expect(run).toMatchObject({ name: 'driftless preview', status: 'completed', conclusion: 'failure', output: { annotations_count: 120 } });
    expect(run?.annotations.map((a) => a.start_line)).toEqual(annotations.map((a) => a.line));
    expect(run?.annotations[0]).toEqual({
      path: 'deploy/web/kustomization.yaml',
      start_line: 1,
      end_line: 1,
      annotation_level: 'failure',
      message: 'error 0',
      title: 'render failed',
    });
    expect(server.checkRunWrites.map((w) => w.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH']);
    expect(server.requests.filter((r) => r.status === 422)).toEqual([]);
  });
});
