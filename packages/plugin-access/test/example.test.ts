import { runExample } from './run-example.js';

test('examples/protection/access.ts: served from 127.0.0.1, closed from the denied 127.0.0.2', async () => {
  const lines = await runExample('access');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, allow 127\.0\.0\.0\/8 and ::1, deny 127\.0\.0\.2$/);
  expect(lines.slice(1)).toEqual(['client from 127.0.0.1: 6 * 7 = 42', 'client from 127.0.0.2: closed by the server: true; refused so far: 1', 'done']);
}, 90_000);
