import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../../lib/notify/slack-notifier.js';

describe('SlackNotifier', () => {
  it('posts a Block Kit failure notice with a text fallback to the incoming webhook', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T/B/X`;
    await new SlackNotifier(url).failure({
      targetId: 'acme/shop/web',
      repository: 'acme/shop',
      commit: 'abcdef1234567890',
      branch: 'main',
      error: 'apply failed for 1 object(s)',
      failures: ['Deployment/shop/web: Invalid: spec.replicas: Invalid value: -1'],
    });
    await new Promise<void>((r) => server.close(() => r()));
    const [msg] = received as { text: string; blocks: { text: { text: string } }[] }[];
    expect(msg?.text).toContain('Sync of *acme/shop/web* failed at `abcdef123456` (main)');
    expect(msg?.text).toContain('Deployment/shop/web: Invalid');
    expect(msg?.blocks.length).toBe(3);
  });
});
