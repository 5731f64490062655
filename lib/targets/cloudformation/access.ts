import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { ENV } from '../../core/env-names.js';

/** What a stack target needs to reach CloudFormation in one region. */
export interface CloudFormationAccess {
  readonly cfn: CloudFormationClient;
  readonly s3?: S3Client;
  /** The deployment's service role, used when the target names none. */
  readonly roleArn?: string;
  readonly artifactBucket?: string;
}

/** CloudFormation clients per region, with the deployment's service role and artifact bucket. */
export const cloudFormationAccess = (env: Record<string, string | undefined> = process.env) => {
  const byRegion = new Map<string, CloudFormationAccess>();
  return (region: string): CloudFormationAccess => {
    let a = byRegion.get(region);
    if (!a) {
      a = {
        cfn: new CloudFormationClient({ region }),
        s3: new S3Client({ region }),
        ...(env[ENV.cloudFormationRole] ? { roleArn: env[ENV.cloudFormationRole] } : {}),
        ...(env[ENV.artifactBucket] ? { artifactBucket: env[ENV.artifactBucket] } : {}),
      };
      byRegion.set(region, a);
    }
    return a;
  };
};
