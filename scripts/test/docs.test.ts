// The API reference (`pnpm docs`: TypeDoc over every package's entry points, typedoc.json) must
// build without a warning, so a TSDoc mistake in any package (an unknown tag such as a bare
// `@rpcx`, a broken {@link}, a type used in the API but not exported) fails here; and it must
// document every entry point a user can import, so a new subpath export cannot be left out.
// scripts/check-docs.mjs converts and validates as `pnpm docs` does, without writing HTML.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `@rpcx/x` and `@rpcx/x/sub` for every export of every published package, `./package.json` aside. */
function importablePaths(): string[] {
  const paths: string[] = [];
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8'));
    if (manifest.private) continue;
    for (const key of Object.keys(manifest.exports)) if (key !== './package.json') paths.push(key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`);
  }
  return paths.sort();
}

test('the API reference builds from the TSDoc without warnings and covers every entry point', async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'check-docs.mjs')], {
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
  expect(output.trim().split('\n').sort()).toEqual(importablePaths());
}, 180_000);
