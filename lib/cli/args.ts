import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ReconcilerError } from '../core/errors.js';

/** Parses a command's flags; unknown flags and missing values are usage errors (exit 2). */
export const parseFlags = <T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T, usage: string) => {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${usage}`);
  }
};

/** A command line that does not fit the command's usage. */
export class UsageError extends ReconcilerError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags every command that reaches a cluster takes. */
export const CLUSTER_FLAGS = {
  repo: { type: 'string' },
  target: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  registry: { type: 'string' },
  repository: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** A required flag's value. */
export const required = (value: string | undefined, flag: string, usage: string): string => {
  if (!value) throw new UsageError(`--${flag} is required\n${usage}`);
  return value;
};
