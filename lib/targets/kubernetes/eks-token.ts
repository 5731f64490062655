import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** How long EKS accepts a token (the presigned URL itself expires after 60 s, as aws-iam-authenticator signs it). */
export const EKS_TOKEN_LIFETIME_MS = 15 * 60_000;
/** Refresh this long before a cached token would expire. */
const REFRESH_MARGIN_MS = 2 * 60_000;

export interface EksTokenInput {
  readonly clusterName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Signing time (tests fix it). */
  readonly signingDate?: Date;
}

/**
 * An EKS bearer token: `k8s-aws-v1.` followed by the unpadded base64url encoding of a presigned STS
 * GetCallerIdentity URL (regional endpoint, X-Amz-Expires=60, `x-k8s-aws-id: <cluster>` as a signed header).
 */
export const eksToken = async (input: EksTokenInput): Promise<string> => {
  const hostname = `sts.${input.region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'sts', region: input.region, credentials: input.credentials, sha256: Hash.bind(null, 'sha256') });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, 'x-k8s-aws-id': input.clusterName },
  });
  const signed = await signer.presign(request, {
    expiresIn: 60,
    unhoistableHeaders: new Set(['x-k8s-aws-id']),
    ...(input.signingDate ? { signingDate: input.signingDate } : {}),
  });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const url = `https://${hostname}/?${query}`;
  return `k8s-aws-v1.${Buffer.from(url).toString('base64url')}`;
};

/** Caches an EKS token until shortly before it expires. */
export class EksTokenCache {
  private cached?: { token: string; expires: number };

  constructor(
    private readonly input: Omit<EksTokenInput, 'signingDate'>,
    private readonly now: () => number = Date.now,
  ) {}

  async token(): Promise<string> {
    const t = this.now();
    if (this.cached && t < this.cached.expires - REFRESH_MARGIN_MS) return this.cached.token;
    const token = await eksToken({ ...this.input, signingDate: new Date(t) });
    this.cached = { token, expires: t + EKS_TOKEN_LIFETIME_MS };
    return token;
  }
}
