import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { previewTriggerOf } from '../../../lib/preview/preview-trigger.js';

// Real payloads as GitHub sends them (@octokit/webhooks-examples).
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as { name: string; examples: Record<string, unknown>[] }[];
const of = (name: string, action: string) => (examples.find((e) => e.name === name)?.examples ?? []).filter((e) => e.action === action);

describe('previewTriggerOf, on real payloads', () => {
  it.each(['opened', 'synchronize', 'reopened', 'ready_for_review'])('previews pull_request %s at its head, against its base branch', (action) => {
    const payload = of('pull_request', action)[0] as Record<string, unknown>;
    const pr = payload.pull_request as { number: number; head: { sha: string }; base: { ref: string; sha: string } };
    expect(previewTriggerOf('pull_request', payload)).toEqual({
      preview: {
        repository: 'Codertocat/Hello-World',
        baseBranch: pr.base.ref,
        baseSha: pr.base.sha,
        headSha: pr.head.sha,
        pullRequest: pr.number,
        fork: false,
        trigger: 'pull_request',
      },
    });
  });

  it('ignores other pull_request actions (closed is the merge path, not a preview)', () => {
    for (const action of ['closed', 'labeled', 'edited', 'assigned']) {
      const payload = of('pull_request', action)[0];
      if (!payload) continue;
      expect(previewTriggerOf('pull_request', payload)).toHaveProperty('ignore');
    }
  });

  it('marks a pull request from another repository, or from a deleted fork, as a fork', () => {
    const payload = structuredClone(of('pull_request', 'opened')[0]) as { pull_request: { head: { repo: unknown } } };
    payload.pull_request.head.repo = { full_name: 'mallory/Hello-World' };
    expect(previewTriggerOf('pull_request', payload as never)).toMatchObject({ preview: { fork: true } });
    payload.pull_request.head.repo = null;
    expect(previewTriggerOf('pull_request', payload as never)).toMatchObject({ preview: { fork: true } });
  });

  it('reruns on check_suite rerequested with a pull request of this repository, and ignores one without', () => {
    const [withPr, withoutPr] = [of('check_suite', 'rerequested')[0], { ...structuredClone(of('check_suite', 'rerequested')[0]) }] as Record<string, unknown>[];
    expect(previewTriggerOf('check_suite', withPr as never)).toMatchObject({
      preview: { baseBranch: 'master', headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821', fork: false, trigger: 'check_suite' },
    });
    (withoutPr as { check_suite: { pull_requests: unknown[] } }).check_suite.pull_requests = [];
    expect(previewTriggerOf('check_suite', withoutPr as never)).toHaveProperty('ignore');
  });

  it('reruns on check_run rerequested only for a check run named driftless preview', () => {
    const payload = structuredClone(of('check_run', 'created')[0]) as { action: string; check_run: { name: string } };
    payload.action = 'rerequested';
    expect(previewTriggerOf('check_run', payload as never)).toMatchObject({ ignore: expect.stringContaining('Octocoders-linter') });
    payload.check_run.name = 'driftless preview';
    expect(previewTriggerOf('check_run', payload as never)).toMatchObject({ preview: { trigger: 'check_run', fork: false } });
  });

  it('rejects names that are not names: a head that reads as an option, a base with .., a repository named __proto__', () => {
    const base = of('pull_request', 'opened')[0] as Record<string, unknown>;
    const bad = (change: (p: { repository: { full_name: string }; pull_request: { head: { sha: string }; base: { ref: string } } }) => void) => {
      const p = structuredClone(base) as never;
      change(p);
      return previewTriggerOf('pull_request', p);
    };
    expect(bad((p) => (p.pull_request.head.sha = '--output=/tmp/x'))).toEqual({ reject: 'pull request whose head.sha is not a commit id' });
    expect(bad((p) => (p.pull_request.base.ref = 'main..x'))).toEqual({ reject: 'pull request whose base.ref is not a branch name' });
    expect(bad((p) => (p.repository.full_name = '__proto__'))).toEqual({ reject: 'payload without a valid repository.full_name' });
  });
});
