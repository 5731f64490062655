import type { ObjectDrift } from '../../core/drift.js';
import type { InventoryEntry } from '../../core/inventory.js';
import type { TargetApply, TargetPlan } from '../../core/target.js';
import type { StackTarget } from '../../core/target.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CFN_GROUP, CloudFormationTarget, type CloudFormationTargetOptions } from './cloudformation-target.js';

export type { StackTarget };

/** The inventory of a stack target: the stack itself. */
export const stackInventory = (stack: string): InventoryEntry[] => [{ group: CFN_GROUP, kind: 'AWS::CloudFormation::Stack', name: stack }];

/**
 * A CloudFormation stack behind the `Target` port: change sets for plan and apply, DetectStackDrift for drift
 * (a change set compares templates, never live resources).
 * @example
 * const target = createStackTarget(cfn, { id: 'acme/infra/vpc', stack: 'acme-vpc' });
 * const applied = await target.apply({ kind: 'cloudformation', template, parameters: [], files });
 */
export const createStackTarget = (cfn: CloudFormationClient, options: CloudFormationTargetOptions, s3?: S3Client): StackTarget => {
  const stack = new CloudFormationTarget(cfn, options, s3);
  return {
    id: options.id,
    kind: 'cloudformation',

    async plan(desired, o = {}): Promise<TargetPlan> {
      const signal = o.deadline?.signal;
      const { changeSet, changes, findings } = await stack.planChanges(desired.template, desired.parameters, {
        ...(o.commit ? { commit: o.commit } : {}),
        ...(signal ? { signal } : {}),
      });
      return { changeSet, failed: changeSet.entries.filter((e) => e.action === 'failed').length, changes, ...(findings ? { findings } : {}) };
    },

    async apply(desired, o = {}): Promise<TargetApply> {
      const signal = o.deadline?.signal;
      const out = await stack.apply(desired.template, desired.parameters, {
        ...(o.commit ? { commit: o.commit } : {}),
        ...(signal ? { signal } : {}),
        ...(o.deadline ? { deadline: o.deadline.at } : {}),
        ...(o.beforeWrite ? { beforeWrite: o.beforeWrite } : {}),
      });
      const inventory = stackInventory(options.stack);
      if (out.result === 'failed') return { result: 'failed', changeSet: out.changeSet, inventory, error: out.error };
      if (out.result === 'in-progress') return { result: 'in-progress', changeSet: out.changeSet, inventory, status: out.status };
      return { result: 'succeeded', changeSet: out.changeSet, inventory };
    },

    async detectDrift(_desired, o = {}): Promise<readonly ObjectDrift[]> {
      const signal = o.deadline?.signal;
      return stack.detectDrift({ ...(signal ? { signal } : {}), ...(o.deadline ? { deadline: o.deadline.at } : {}) });
    },

    remove: () => stack.delete(),
  };
};
