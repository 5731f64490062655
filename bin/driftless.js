#!/usr/bin/env node
// The `driftless` command: runs the bundled CLI (dist/cli, built by `npm run build`, which `npm ci` runs through `prepare`).
// The AWS SDK warns on every start that its 2027 releases will need Node 22; the CLI runs on 20 as well.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { main } = await import('../dist/cli/main.js');

// A closed pipe (`driftless diff … | head`) ends the command quietly, as other CLIs do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
