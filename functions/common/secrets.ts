import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ReconcilerError } from '../../lib/core/errors.js';
import { hideSecret } from './observability.js';

/**
 * Reads secrets from Secrets Manager, caching each for five minutes (a rotated secret is picked up soon after).
 * Each read has a deadline (2 s per attempt, three attempts) that fits the webhook's 10-second answer.
 */
export const secretsManager = (
  client = new SecretsManagerClient({ maxAttempts: 3, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000, throwOnRequestTimeout: true } }),
) => {
  const cache = new Map<string, { value: string; at: number }>();
  return async (id: string): Promise<string> => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < 5 * 60_000) return hit.value;
    try {
      const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
      const value = out.SecretString ?? (out.SecretBinary ? Buffer.from(out.SecretBinary).toString('utf8') : '');
      hideSecret(value);
      cache.set(id, { value, at: Date.now() });
      return value;
    } catch (cause) {
      throw new ReconcilerError(`secret ${id}: cannot be read: ${(cause as Error).message}`, { cause });
    }
  };
};
