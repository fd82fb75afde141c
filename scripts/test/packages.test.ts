// The CI job that proves the packages as a user gets them (scripts/check-packages.mjs): build,
// pack, check every tarball, install only the tarballs into scratch apps outside the workspace
// and run the README's Hello, a ws + json stack and the CLI. Needs the npm registry for
// third-party dependencies and, once, for the node@<version> packages of the oldest Nodes.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'check-packages.mjs');

test('every package builds, packs, passes publint and attw, installs from its tarball and runs', async () => {
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ code: status, output }));
  });
  // On failure jest prints the script's whole report: which check failed and the command's output.
  expect(output).toMatch(/\nall package checks passed\n$/);
  expect(code).toBe(0);
}, 15 * 60_000);
