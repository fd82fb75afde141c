import { runExample } from './run-example.js';

test('examples/protection/alias.ts: Calc.Times answers as Arith.Mul', async () => {
  const lines = await runExample('alias');
  expect(lines[0]).toMatch(/^server: Arith on tcp@127\.0\.0\.1:\d+, alias Calc\.Times -> Arith\.Mul$/);
  expect(lines.slice(1)).toEqual(['client: Calc.Times 6 7 = 42', 'done']);
}, 90_000);
