import { runExample } from './run-example.js';

test('examples/protection/limits.ts: the per-client limit lets two of four calls through', async () => {
  const lines = await runExample('limits');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, 1000 calls\/s \(burst 100\), 2 calls\/min per client$/);
  expect(lines.slice(1)).toEqual(['client: 10 | 20 | request reached rate limit | request reached rate limit', 'done']);
}, 90_000);
