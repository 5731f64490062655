import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRedactor, NO_REDACTION, type Redactor } from '../core/redact.js';
import { LocalFileTree } from '../render/file-tree.js';
import { secretSourceValues } from '../render/secret-sources.js';
import type { Io } from './output.js';

/** The checkout a command reads (its `--repo DIR`, or `render DIR`'s positional), when it is a directory. */
export const checkoutDir = (dir: string | undefined, cwd: string): string | undefined => {
  if (dir === undefined) return undefined;
  const abs = resolve(cwd, dir);
  return existsSync(abs) && statSync(abs).isDirectory() ? abs : undefined;
};

/** A redactor for the secret values of a checkout (its Secret manifests and secretGenerator sources). */
export const checkoutRedactor = async (dir: string | undefined): Promise<Redactor> =>
  dir ? createRedactor(await secretSourceValues(new LocalFileTree(dir)).catch(() => [])) : NO_REDACTION;

/**
 * The command's output with secret values redacted. `render` prints the rendered objects themselves (Secrets
 * included, as `kubectl kustomize` does), so its stdout is left alone; everything else, and every stderr, is
 * redacted.
 */
export const redactingIo = (io: Io, command: string, redact: Redactor): Io =>
  redact.size === 0
    ? io
    : {
        ...io,
        stdout: command === 'render' ? io.stdout : (s) => io.stdout(redact(s)),
        stderr: (s) => io.stderr(redact(s)),
      };
