/** A sync failure, as told to people (Slack). Never carries Secret values: only names and the error. */
export interface FailureNotice {
  readonly targetId: string;
  readonly repository: string;
  readonly commit: string;
  readonly branch: string;
  readonly error: string;
  readonly author?: string;
  /** Failed objects as `Kind/namespace/name: reason`. */
  readonly failures?: readonly string[];
}

/** Where failure notices go. */
export interface Notifier {
  failure(notice: FailureNotice): Promise<void>;
}
