// examples/greeter as a user has it: buf generate with its buf.gen.yaml gives the committed
// gen/ files, and run.ts serves and calls the generated stubs over TCP on loopback.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR, bufGenerate, mustRun, pluginDir, readTree, removeDir, withoutVersion } from './support/generate.js';

const EXAMPLE_DIR = join(REPO_DIR, 'examples', 'greeter');

test('examples/greeter: buf generate reproduces gen/, and run.ts prints its greetings', async () => {
  const plugin = pluginDir();
  const out = mkdtempSync(join(tmpdir(), 'greeter-gen-'));
  try {
    // --output puts the template's `out: gen` under a scratch directory instead of the example.
    await bufGenerate(plugin, EXAMPLE_DIR, ['--output', out]);
    const generated = readTree(join(out, 'gen'));
    const committed = readTree(join(EXAMPLE_DIR, 'gen'));
    expect([...generated.keys()]).toEqual(['greeter/v1/greeter_pb.ts', 'greeter/v1/greeter_rpcx.ts']);
    expect([...committed.keys()]).toEqual([...generated.keys()]);
    for (const [name, text] of generated) expect(withoutVersion(text)).toBe(withoutVersion(committed.get(name)!));
  } finally {
    removeDir(plugin);
    removeDir(out);
  }

  const stdout = await mustRun(process.execPath, ['--import', 'tsx', join('greeter', 'run.ts')], { cwd: join(REPO_DIR, 'examples'), timeoutMs: 60_000 });
  const lines = stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^server: Greeter on tcp@127\.0\.0\.1:\d+$/);
  expect(lines.slice(1)).toEqual([
    'client: Hello, Ada (1); Hello, Ada (2)',
    'client: greeted just now: true, total 9007199254740992 (bigint)',
    'client: total 9007199254740995, exact beyond 2^53: true',
    'client: times 0 refused: times must be at least 1',
    'done',
  ]);
}, 120_000);
