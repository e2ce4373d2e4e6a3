#!/usr/bin/env node
// Reads the jest --json result files in .test-results/ (or the folder given) and prints one line,
// exactly "N passed, N failed". Suites that failed to run count as failures too (one each), and
// so does a tier whose result file is missing. Exits 1 if anything failed or no test ran.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const dir = process.argv[2] || path.join(__dirname, '..', '.test-results');
// Further tiers a caller requires (.ci/run adds the fault suite): TEST_SUMMARY_EXPECT=a.json,b.json
const expected = [
  'unit.json',
  'workflows.json',
  'integration.json',
  ...(process.env.TEST_SUMMARY_EXPECT || '').split(',').filter(Boolean),
];
let passed = 0;
let failed = 0;
let files = [];
try {
  files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
} catch {
  files = [];
}
for (const name of expected) {
  if (!files.includes(name)) {
    process.stderr.write(
      `test-summary: ${name} missing in ${dir} (that tier did not finish): counted as 1 failure\n`,
    );
    failed += 1;
  }
}
for (const name of files) {
  let r;
  try {
    r = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
  } catch (err) {
    process.stderr.write(
      `test-summary: cannot read ${name}: ${err.message}: counted as 1 failure\n`,
    );
    failed += 1;
    continue;
  }
  passed += Number(r.numPassedTests || 0);
  failed += Number(r.numFailedTests || 0);
  // Suites that could not run (syntax error, failing import, failing hook outside tests)
  // report a failed suite with no failed test in it.
  const broken = Array.isArray(r.testResults)
    ? r.testResults.filter(
        (t) =>
          t.status === 'failed' &&
          !(t.assertionResults || []).some((a) => a.status === 'failed') &&
          !(t.numFailingTests > 0),
      ).length
    : Number(r.numRuntimeErrorTestSuites || 0);
  failed += broken;
  if (
    r.success === false &&
    (r.numFailedTests || 0) === 0 &&
    broken === 0 &&
    r.numTotalTestSuites > 0
  )
    failed += 1;
  if (broken > 0) process.stderr.write(`test-summary: ${name}: ${broken} suite(s) failed to run\n`);
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
if (failed > 0 || passed === 0) {
  if (passed === 0 && failed === 0) process.stderr.write('test-summary: no test ran\n');
  process.exit(1);
}
