import { IncomingWebhook } from '@slack/webhook';
import { ReconcilerError } from '../core/errors.js';
import type { DriftNotice, FailureNotice, Notifier } from './notifier.js';
import { formatDriftMessage } from './slack-drift-message.js';

const MAX_LINES = 20;
const shorten = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The Slack message for a failed sync: Block Kit with a text fallback. */
export const failureMessage = (n: FailureNotice) => {
  const head = `:x: Sync of *${n.targetId}* failed at \`${n.commit.slice(0, 12)}\` (${n.branch})${n.author ? ` by ${n.author}` : ''}`;
  const lines = (n.failures ?? []).slice(0, MAX_LINES).map((f) => `• ${shorten(f, 200)}`);
  if ((n.failures?.length ?? 0) > MAX_LINES) lines.push(`…and ${(n.failures?.length ?? 0) - MAX_LINES} more`);
  const text = `${head}\n${shorten(n.error, 500)}${lines.length ? `\n${lines.join('\n')}` : ''}`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      { type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${shorten(n.error, 2800)}\`\`\`` } },
      ...(lines.length ? [{ type: 'section', text: { type: 'mrkdwn', text: shorten(lines.join('\n'), 2900) } }] : []),
    ],
  };
};

/** Posts failure notices to a Slack incoming webhook (the URL is a secret of the deployment). */
export class SlackNotifier implements Notifier {
  private readonly hook: IncomingWebhook;

  constructor(url: string) {
    this.hook = new IncomingWebhook(url);
  }

  async failure(notice: FailureNotice): Promise<void> {
    await this.post(failureMessage(notice), `failure notice for ${notice.targetId}`);
  }

  async drift(changes: readonly DriftNotice[]): Promise<void> {
    await this.post(formatDriftMessage(changes), 'drift report');
  }

  private async post(message: { text: string; blocks: unknown[] }, what: string): Promise<void> {
    try {
      await this.hook.send(message as Parameters<IncomingWebhook['send']>[0]);
    } catch (cause) {
      throw new ReconcilerError(`Slack: ${what} was not delivered: ${(cause as Error).message}`, { cause });
    }
  }
}
