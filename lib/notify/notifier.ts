import type { DriftReport } from '../core/drift.js';

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

/** One target's check, as a drift report tells it: names, field paths and values with Secret values already hidden. */
export interface DriftNoticeCheck {
  readonly targetId: string;
  readonly report?: DriftReport;
  readonly suspended: boolean;
  readonly healed: boolean;
}

/** What changed for one target since the last drift run. */
export interface DriftNotice {
  readonly check: DriftNoticeCheck;
  readonly change: 'new' | 'changed' | 'resolved' | 'removed';
}

/** Where failure notices and drift reports go. */
export interface Notifier {
  failure(notice: FailureNotice): Promise<void>;
  /** One drift run's report: the targets whose drift is new, changed, resolved or removed (never empty). */
  drift(changes: readonly DriftNotice[]): Promise<void>;
}
