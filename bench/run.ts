/**
 * `npm run bench [-- SUITE…]`: runs the benchmark suites and rewrites their sections of BENCHMARKS.md
 * (between `<!-- bench:NAME -->` markers), with the machine and the command.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from './machine.js';
import { benchBundles } from './bundles.js';
import { benchDrift } from './drift.js';
import { benchFaults } from './faults.js';
import { benchGitHubFetch } from './github-fetch.js';
import { benchKubernetes } from './kubernetes.js';
import { benchLedger } from './ledger.js';
import { benchPipeline } from './pipeline.js';
import { benchRender } from './render.js';
import { benchHelm } from './helm.js';
import { benchNoop } from './noop.js';
import { benchCliNoop } from './cli-noop.js';
import { benchPreview } from './preview.js';
import { benchScale } from './scale.js';
import { benchFidelity } from './fidelity.js';

// A suite answers undefined when it cannot run here (fidelity without --root): its section is left as it was.
const SUITES: Record<string, () => Promise<string | undefined>> = {
  render: benchRender,
  kubernetes: benchKubernetes,
  ledger: benchLedger,
  pipeline: benchPipeline,
  'github-fetch': benchGitHubFetch,
  drift: benchDrift,
  bundles: benchBundles,
  helm: benchHelm,
  faults: benchFaults,
  noop: benchNoop,
  'cli-noop': benchCliNoop,
  preview: benchPreview,
  scale: benchScale,
  fidelity: () => benchFidelity(process.argv.slice(2)),
};

const file = join(import.meta.dirname, '..', 'BENCHMARKS.md');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(SUITES);
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));

let doc = readFileSync(file, 'utf8');
for (const name of names) {
  const suite = SUITES[name];
  if (!suite) throw new Error(`unknown benchmark suite "${name}" (have: ${Object.keys(SUITES).join(', ')})`);
  const body = await suite();
  if (body === undefined) {
    console.log(`${name}: skipped`);
    continue;
  }
  const section = `<!-- bench:${name} -->\n_Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; command: \`npm run bench -- ${[name, ...flags].join(' ')}\`._\n\n${body}\n<!-- /bench:${name} -->`;
  const re = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}\n`;
  console.log(section);
}
writeFileSync(file, doc);
