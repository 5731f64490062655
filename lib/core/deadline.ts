/**
 * An invocation's deadline, passed explicitly next to its AbortSignal: `at` is the epoch millisecond by which
 * work must have stopped (the signal fires then), so waits can end early and say why.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** How long an invocation may run when nobody says (a Lambda's 15-minute maximum). @default 15 min */
export const DEFAULT_RUN_MS = 15 * 60_000;

/**
 * The deadline of an invocation with `remainingMs` left: `marginMs` before its time runs out (at least a second).
 * @example const { signal, at } = deadlineOf(context.getRemainingTimeInMillis());
 */
export const deadlineOf = (remainingMs: number, marginMs = 10_000): Deadline => {
  const ms = Math.max(1000, remainingMs - marginMs);
  return { signal: AbortSignal.timeout(ms), at: Date.now() + ms };
};

/** Milliseconds left before `at` (never negative); `DEFAULT_RUN_MS` when there is no deadline. */
export const msLeft = (at: number | undefined, now = Date.now()): number => (at === undefined ? DEFAULT_RUN_MS : Math.max(0, at - now));

/** A deadline that also ends when `other` aborts (a shutdown): same `at`, combined signal. */
export const withAbort = (deadline: Deadline, other: AbortSignal): Deadline => ({ signal: AbortSignal.any([deadline.signal, other]), at: deadline.at });
