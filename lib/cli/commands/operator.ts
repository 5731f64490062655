import { userInfo } from 'node:os';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ENV } from '../../core/env-names.js';
import { ReconcilerError } from '../../core/errors.js';
import { targetId } from '../../core/ownership.js';
import type { ReconcileRequest } from '../../reconcile/reconcile-target.js';
import { parseCommand, UsageError } from '../args.js';
import { ledgerFromEnv, localServe } from '../ledger-env.js';
import type { Io } from '../output.js';
import { SUSPEND_COMMAND, RESUME_COMMAND, TRIGGER_COMMAND } from '../specs/operator.js';

/** `driftless suspend` / `resume`: stop or restart syncing a target without a commit (recorded in the ledger). */
export const suspendCommand =
  (suspended: boolean) =>
  async (args: readonly string[], io: Io): Promise<number> => {
    const { values } = parseCommand(suspended ? SUSPEND_COMMAND : RESUME_COMMAND, args);
    const { repo, target } = values;
    const { ledger, close } = await ledgerFromEnv(io.env, io.cwd);
    try {
      const id = targetId(repo, target);
      const state = await ledger.getState(id);
      if (!state) throw new ReconcilerError(`${id} is not in the ledger (has it synced yet?)`);
      await ledger.setSuspended(id, suspended, io.env.USER ?? userInfo().username, { repository: repo, target });
      io.stdout(`${id} ${suspended ? 'suspended: no apply, no prune, no self-heal; drift is still reported' : 'resumed'}\n`);
      return 0;
    } finally {
      close();
    }
  };

/**
 * `driftless trigger`: sync now, through the deployed reconcile function (DRIFTLESS_RECONCILE_FUNCTION), or the
 * one a local `driftless serve` runs.
 */
export const triggerCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const { values } = parseCommand(TRIGGER_COMMAND, args);
  const repo = values.repo;
  const serve = localServe(io.cwd);
  const endpoint = io.env[ENV.lambdaEndpoint] ?? serve?.invokeUrl;
  const fn = io.env[ENV.reconcileFunction] ?? (serve ? 'reconcile' : undefined);
  if (!fn) throw new UsageError(`${ENV.reconcileFunction} is not set (and no driftless serve runs here)`);
  const { ledger, close } = await ledgerFromEnv(io.env, io.cwd);
  const lambda = new LambdaClient({
    ...(endpoint ? { endpoint } : {}),
    ...(serve && !io.env[ENV.lambdaEndpoint] ? { region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  try {
    const targets = (await ledger.listTargets({ repository: repo, withInventory: false })).filter((t) => !values.target || t.target === values.target);
    if (!targets.length) throw new ReconcilerError(`no target ${values.target ? `"${values.target}" ` : ''}of ${repo} is in the ledger`);
    for (const t of targets) {
      const branch = (t.config as { branch?: string } | undefined)?.branch ?? 'main';
      const req: ReconcileRequest = { repository: repo, target: t.target, branch, trigger: 'trigger', force: true };
      const out = await lambda.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(req)) }));
      if (out.StatusCode !== 202) throw new ReconcilerError(`invoke of ${fn} answered ${String(out.StatusCode)}`);
      io.stdout(`triggered ${t.targetId} (${branch})\n`);
    }
    return 0;
  } finally {
    lambda.destroy();
    close();
  }
};
