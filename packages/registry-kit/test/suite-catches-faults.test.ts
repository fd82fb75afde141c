// The compliance suite can fail: run under node:test in a child process against the memory
// registry with one defect at a time, exactly the tests that check that behaviour fail.
import { fileURLToPath } from 'node:url';
import { REGISTRY_COMPLIANCE_TESTS, runNodeTestFile } from '../src/testing/index.js';

const fixture = fileURLToPath(new URL('./fixtures/memory-compliance.ts', import.meta.url));
const [, unregister, second, garbage, refresh, clone, listAll] = REGISTRY_COMPLIANCE_TESTS;

test.each([
  ['none', []],
  ['noEntryChecks', [garbage]],
  ['noRates', [refresh]],
  ['noWatch', [unregister, second, garbage, refresh, clone]],
  ['listOneService', [listAll]],
] as const)('FAULT=%s fails exactly %j', async (fault, expectedFailures) => {
  const run = await runNodeTestFile(fixture, { env: { ...process.env, FAULT: fault }, timeoutMs: 60_000 });
  const leaves = run.results.filter((r) => !r.suite);
  expect(leaves.map((r) => r.name).sort()).toEqual([...REGISTRY_COMPLIANCE_TESTS].sort());
  expect(leaves.filter((r) => !r.ok).map((r) => r.name).sort()).toEqual([...expectedFailures].sort());
  for (const r of leaves) if (!r.ok) expect(r.error).toBeTruthy();
  expect(run.exitCode).toBe(expectedFailures.length === 0 ? 0 : 1);
}, 60_000);
