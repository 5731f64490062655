import { ENV } from '../../core/env-names.js';
import { defineCommand } from '../args.js';

/** `driftless serve`, declared once: its flags are parsed, explained by --help and completed from here. */
export const SERVE_COMMAND = defineCommand({
  name: 'serve',
  summary: 'run the pipeline on this machine: webhook, reconcile, the sweeper and DynamoDB Local',
  details: [
    'The ledger is kept in .driftless/ledger. Without --registry or --clone it runs the demo: the example',
    'repository and a sandbox cluster. The environment may also be set in ./.env. Ctrl-C, SIGTERM or SIGHUP',
    'stop it; a second Ctrl-C exits at once.',
  ],
  flags: {
    port: { type: 'string', value: 'PORT', default: '8787', description: 'port of the webhook endpoint' },
    registry: { type: 'string', value: 'FILE', description: 'registry file: repositories, clusters, grants' },
    clone: { type: 'string', value: 'OWNER/NAME=DIR', multiple: true, description: 'read OWNER/NAME from the local clone DIR instead of GitHub' },
    poll: { type: 'string', value: 'DURATION', default: '10s', description: 'how often the clones are checked for new commits' },
    'drift-interval': { type: 'string', value: 'DURATION', default: '5m', description: 'how often every target is checked for drift' },
    'in-memory': { type: 'boolean', description: 'keep the ledger in memory, not in .driftless/ledger' },
  },
  env: [
    [ENV.registry, 'registry file, when --registry is not given'],
    [ENV.webhookSecret, 'the webhook secret GitHub signs deliveries with'],
    [ENV.githubToken, 'GitHub token, for repositories that are not cloned locally'],
    [ENV.slackWebhookUrl, 'Slack incoming webhook for drift and failure reports'],
    [ENV.dynamoDbEndpoint, 'use this DynamoDB instead of starting DynamoDB Local'],
  ],
  exitCodes: [
    [0, 'stopped by a signal (Ctrl-C)'],
    [2, 'error: a bad command line, or serve could not start'],
  ],
});
