// Prints one closing line over every test runner's JSON report: "Tests: N passed, N failed, N skipped".
// Exits non-zero when any test failed or a report is missing.
import { readFileSync } from 'node:fs';

let passed = 0, failed = 0, skipped = 0, missing = 0;
for (const file of process.argv.slice(2)) {
  let r;
  try { r = JSON.parse(readFileSync(file, 'utf8')); } catch { missing++; console.log(`no report at ${file}`); continue; }
  if ('numPassedTests' in r) { // vitest
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    // A test file that fails to load reports no tests but is a failure.
    failed += (r.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).length).length;
  } else if (r.stats) { // playwright
    passed += r.stats.expected + (r.stats.flaky ?? 0); failed += r.stats.unexpected; skipped += r.stats.skipped;
  }
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed || missing || passed === 0 ? 1 : 0);
