import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { formatCounts, hasChanges, type ChangeSet } from '../../core/change-set.js';
import type { CloudFormationTargetConfig } from '../../config/schema.js';
import { registryGrant } from '../../config/stack-grants.js';
import { CloudFormationTarget } from '../../targets/cloudformation/cloudformation-target.js';
import { parseParameters, parseTemplate } from '../../targets/cloudformation/template.js';
import type { LocalTarget } from '../local-target.js';
import { paintAction, type Io, toJson } from '../output.js';
import { table } from '../table.js';

/** A stack target of a local checkout, with the caller's AWS credentials (the CLI may use them directly). */
const openStack = (local: LocalTarget & { target: CloudFormationTargetConfig }) => {
  const read = (p: string) => readFileSync(join(local.repoDir, p), 'utf8');
  const template = parseTemplate(read(local.target.path), local.target.path);
  const parameters = local.target.parameters ? parseParameters(read(local.target.parameters), local.target.parameters) : [];
  const cfn = new CloudFormationClient({ region: local.target.region });
  const stack = new CloudFormationTarget(cfn, {
    id: local.id,
    stack: local.target.stack,
    capabilities: local.target.cloudformation.capabilities,
    tags: local.target.cloudformation.tags,
    adopt: local.registry ? registryGrant(local.registry, local.repository)?.adopt === true : false,
    ...(local.target.cloudformation.roleArn ? { roleArn: local.target.cloudformation.roleArn } : {}),
  });
  return { template, parameters, stack, close: () => cfn.destroy() };
};

const changeTable = (io: Io, cs: ChangeSet): string =>
  table(
    io,
    ['ACTION', 'LOGICAL ID', 'TYPE', 'REPLACEMENT'],
    cs.entries.map((e) => [
      paintAction(io, e.action),
      e.ref.name,
      e.ref.kind,
      e.detail?.includes('replacement: conditional') ? 'Conditional' : e.detail?.includes('replacement') ? 'True' : e.action === 'configured' ? 'False' : '',
    ]),
  );

/** `driftless diff` for a stack target: the change set as a table. Exit 0 none, 1 changes, 2 errors. */
export const diffStack = async (local: LocalTarget & { target: CloudFormationTargetConfig }, json: boolean, io: Io): Promise<number> => {
  const s = openStack(local);
  try {
    const cs = await s.stack.plan(s.template, s.parameters);
    io.stdout(json ? toJson(cs) : changeTable(io, cs));
    return hasChanges(cs.entries) ? 1 : 0;
  } finally {
    s.close();
  }
};

/**
 * `driftless sync` for a stack target: executes the change set and waits. Exit 0 ok, 1 failed.
 * `--dry-run` plans the change set (created, described, deleted again) and executes nothing.
 */
export const syncStack = async (local: LocalTarget & { target: CloudFormationTargetConfig }, o: { json: boolean; dryRun: boolean }, io: Io): Promise<number> => {
  const { json } = o;
  const s = openStack(local);
  try {
    if (!json) io.stderr(`${o.dryRun ? 'dry run of' : 'syncing'} ${local.id} → stack ${local.target.stack} (${local.target.region})\n`);
    if (o.dryRun) {
      const cs = await s.stack.plan(s.template, s.parameters);
      io.stdout(json ? toJson(cs) : `${changeTable(io, cs)}dry run: ${formatCounts(cs.entries)}\n`);
      return 0;
    }
    const out = await s.stack.apply(s.template, s.parameters);
    if (json) io.stdout(toJson(out.changeSet));
    else {
      io.stdout(changeTable(io, out.changeSet));
      io.stdout(`${out.result}: ${formatCounts(out.changeSet.entries)}${out.result === 'failed' ? ` — ${out.error}` : ''}\n`);
    }
    return out.result === 'failed' ? 1 : 0;
  } finally {
    s.close();
  }
};
