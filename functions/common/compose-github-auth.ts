import { ReconcilerError } from '../../lib/core/errors.js';
import type { GitHubAuth } from '../../lib/source/github-api.js';

/** GitHub credentials from a secret: a token, or `{"appId": …, "privateKey": "…"}` for a GitHub App. */
export const githubAuthFrom = (secret: string): GitHubAuth => {
  const trimmed = secret.trim();
  if (trimmed.startsWith('{')) {
    const v = JSON.parse(trimmed) as { appId?: string | number; privateKey?: string; token?: string };
    if (v.token) return { token: v.token };
    if (v.appId && v.privateKey) return { appId: v.appId, privateKey: v.privateKey };
    throw new ReconcilerError('GitHub secret: expected a token, or JSON with appId and privateKey');
  }
  return { token: trimmed };
};
