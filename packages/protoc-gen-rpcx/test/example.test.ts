// examples/greeter and examples/protobuf as a user has them: buf generate with their buf.gen.yaml
// gives the committed gen/ files, and run.ts serves and calls the generated stubs over TCP on loopback.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR, bufGenerate, mustRun, pluginDir, readTree, removeDir, withoutVersion } from './support/generate.js';

const EXAMPLE_DIR = join(REPO_DIR, 'examples', 'greeter');

/** Runs the example's buf.gen.yaml into a scratch directory and checks it gives the committed gen/. */
async function expectRegenerated(exampleDir: string, files: string[]): Promise<void> {
  const plugin = pluginDir();
  const out = mkdtempSync(join(tmpdir(), 'example-gen-'));
  try {
    // --output puts the template's `out: gen` under a scratch directory instead of the example.
    await bufGenerate(plugin, exampleDir, ['--output', out]);
    const generated = readTree(join(out, 'gen'));
    const committed = readTree(join(exampleDir, 'gen'));
    expect([...generated.keys()]).toEqual(files);
    expect([...committed.keys()]).toEqual([...generated.keys()]);
    for (const [name, text] of generated) expect(withoutVersion(text)).toBe(withoutVersion(committed.get(name)!));
  } finally {
    removeDir(plugin);
    removeDir(out);
  }
}

test('examples/greeter: buf generate reproduces gen/, and run.ts prints its greetings', async () => {
  await expectRegenerated(EXAMPLE_DIR, ['greeter/v1/greeter_pb.ts', 'greeter/v1/greeter_rpcx.ts']);

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

test('examples/protobuf: buf generate reproduces its committed gen/ (protoc-gen-es only)', async () => {
  await expectRegenerated(join(REPO_DIR, 'examples', 'protobuf'), ['pb/member_pb.ts']);
}, 120_000);
