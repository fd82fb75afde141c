// The API reference (`pnpm docs`, TypeDoc over every package's entry points, typedoc.json) must
// build without a warning: typedoc.json sets treatWarningsAsErrors, so a TSDoc mistake in any
// package (an unknown tag such as a bare `@rpcx`, a broken {@link}, a type that is used but not
// exported) fails here. `--emit none` runs the whole conversion and validation but writes no HTML.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the API reference builds from the TSDoc without warnings', async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ code: status, output }));
  });
  expect(output).not.toMatch(/\[(warning|error)\]/);
  expect(code).toBe(0);
}, 180_000);
