import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EksTokenCache, eksToken } from '../../../lib/targets/kubernetes/eks-token.js';

// The documented algorithm (aws-iam-authenticator, `aws eks get-token`), computed here by hand with SigV4's
// published steps, so the test does not trust the signer it checks.
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();

const expectedUrl = (cluster: string, region: string, date: Date): string => {
  const amzDate = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const host = `sts.${region}.amazonaws.com`;
  const scope = `${day}/${region}/sts/aws4_request`;
  const query: Record<string, string> = {
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
  };
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k] as string)}`)
    .join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}`, `x-k8s-aws-id:${cluster}`, '', 'host;x-k8s-aws-id', sha256('')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), 'sts'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `https://${host}/?${canonicalQuery}&X-Amz-Signature=${signature}`;
};

describe('eksToken', () => {
  it('is k8s-aws-v1. and the unpadded base64url of a presigned regional STS GetCallerIdentity URL', async () => {
    // GIVEN fixed credentials and time
    const date = new Date('2026-11-21T12:34:56Z');
    // WHEN a token is made
    const token = await eksToken({ clusterName: 'prod-cluster', region: 'eu-west-1', credentials, signingDate: date });
    // THEN it decodes to the URL the algorithm defines
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toContain('=');
    const url = Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString();
    const got = new URL(url);
    const want = new URL(expectedUrl('prod-cluster', 'eu-west-1', date));
    expect(got.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(Object.fromEntries(got.searchParams)).toEqual(Object.fromEntries(want.searchParams));
  });

  it('includes the session token of temporary credentials', async () => {
    const token = await eksToken({ clusterName: 'c', region: 'us-east-1', credentials: { ...credentials, sessionToken: 'SESSION' }, signingDate: new Date() });
    const url = new URL(Buffer.from(token.slice(11), 'base64url').toString());
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('SESSION');
  });
});

describe('EksTokenCache', () => {
  it('reuses a token until shortly before it expires', async () => {
    let now = Date.parse('2026-11-21T12:00:00Z');
    const cache = new EksTokenCache({ clusterName: 'c', region: 'eu-west-1', credentials }, () => now);
    const a = await cache.token();
    now += 10 * 60_000;
    expect(await cache.token()).toBe(a);
    now += 4 * 60_000;
    expect(await cache.token()).not.toBe(a);
  });
});
