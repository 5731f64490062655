#!/usr/bin/env node
// The `driftless` command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs through `prepare`).
import { main } from '../dist/lib/cli/main.js';

// A closed pipe (`driftless diff … | head`) ends the command quietly, as other CLIs do.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
