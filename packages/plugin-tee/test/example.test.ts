import { runExample } from './run-example.js';

test('examples/protection/tee.ts: the copy is the rpcx request as read', async () => {
  const lines = await runExample('tee');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, teeing what it reads$/);
  expect(lines[1]).toMatch(/^tee: [1-9]\d* bytes copied, 0 dropped; first byte 0x08 \(rpcx magic\); names Arith\.Mul: true$/);
  expect(lines[2]).toBe('done');
}, 90_000);
