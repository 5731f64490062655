/** Base for all reconciler errors. Subclass only when a caller needs to branch on the type. */
export class ReconcilerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReconcilerError';
  }
}

/** A `driftless.yaml` or registry that fails validation; `issues` lists every problem found. */
export class ConfigError extends ReconcilerError {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
    options?: ErrorOptions,
  ) {
    super(issues.map(formatConfigIssue).join('\n'), options);
    this.name = 'ConfigError';
  }
}

/** One validation problem, located in its file. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Field path such as `targets[1].cluster`; empty for the document itself. */
  readonly field: string;
  readonly message: string;
}

/** Formats `file:line:col field: message`, the shape editors and CI annotations understand. */
export const formatConfigIssue = (issue: ConfigIssue): string => `${issue.file}:${issue.line}:${issue.column} ${issue.field ? `${issue.field}: ` : ''}${issue.message}`;

/** Rendering failed; `file` names the file (or directory) at fault, `line` where known. */
export class RenderError extends ReconcilerError {
  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
    options?: ErrorOptions,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${message}`, options);
    this.name = 'RenderError';
  }
}

/** A registry refusal found before any write: the sync wrote nothing (its inventory stays as it was). */
export class GrantRefusalError extends ReconcilerError {
  constructor(message: string) {
    super(message);
    this.name = 'GrantRefusalError';
  }
}

/** A change the target's own validation refused before writing (a change set CloudFormation failed with findings). */
export class PlanFindingsError extends ReconcilerError {
  constructor(
    message: string,
    readonly findings: readonly { readonly level: 'failure' | 'warning'; readonly name: string; readonly message: string; readonly path?: string }[],
  ) {
    super(message);
    this.name = 'PlanFindingsError';
  }
}
