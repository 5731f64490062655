// The closing line of a CI run, from vitest's JSON report: tests, and test files that failed (a file that
// fails to load runs no test, so only the file count shows it). Exits 1 when anything failed or the report
// is missing or says it did not succeed, whatever vitest's own exit code was.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const file = process.argv[2] ?? '.ci-results.json';
if (!existsSync(file)) {
  console.log(`no test report (${file}): the tests did not run`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const files = r.testResults ?? [];
const failedFiles = files.filter((f) => f.status !== 'passed');
const empty = failedFiles.filter((f) => !(f.assertionResults ?? []).length);
console.log(
  `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped; ` +
    `${files.length - failedFiles.length} of ${files.length} test files passed` +
    (empty.length ? `, ${empty.length} failed to load` : ''),
);
for (const f of failedFiles) {
  const why = (f.message ?? '').split('\n')[0];
  console.log(`  failed: ${relative(process.cwd(), f.name)}${why ? ` — ${why}` : ''}`);
}
process.exit(r.success === true && failedFiles.length === 0 && r.numFailedTests === 0 ? 0 : 1);
