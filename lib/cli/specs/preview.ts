import { CLUSTER_ENV, CLUSTER_FLAGS, defineCommand, JSON_FLAG, LEDGER_ENV } from '../args.js';

/** `driftless preview`, declared once: its flags are parsed, explained by --help and completed from here. */
export const PREVIEW_COMMAND = defineCommand({
  name: 'preview',
  summary: 'what merging HEAD into BASE would do to every target it touches, planned and never applied',
  details: [
    'Each touched target is planned as its sync would be (server-side dry runs, a stack change set that is deleted again).',
    'Targets the change adds or removes in driftless.yaml are previewed as created or removed. A BASE that is a branch',
    "limits the preview to the targets tracking that branch. --markdown prints the check run's summary and text.",
  ],
  flags: {
    repo: { type: 'string', value: 'DIR', required: true, description: 'the git checkout with the change' },
    base: { type: 'string', value: 'REF', required: true, description: 'what the change merges into: a branch, tag or commit' },
    head: { type: 'string', value: 'REF', default: 'HEAD', description: 'the change: a branch, tag or commit' },
    target: { type: 'string', value: 'NAME', complete: 'target', description: 'preview only this target of driftless.yaml' },
    ...CLUSTER_FLAGS,
    ...JSON_FLAG,
    markdown: { type: 'boolean', default: false, description: "print the check run's summary and text (GitHub markdown)" },
  },
  env: [...CLUSTER_ENV, ...LEDGER_ENV],
  exitCodes: [
    [0, 'the merge would change nothing'],
    [1, 'the merge would change something'],
    [2, 'error: a bad command line, a render or config error, or a refusal or guard that would stop a sync'],
  ],
});
