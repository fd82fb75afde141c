// jest globalSetup: build the Go interop peer once per test run (Go's build cache makes a
// rebuild take a second). The interop tests fail with this message if Go is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildGoPeer() {
  const goDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go');
  if (!existsSync(join(goDir, 'go.mod'))) return;
  try {
    execFileSync('go', ['build', '-o', 'bin/peer', './cmd/peer'], { cwd: goDir, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new Error(`building the Go interop peer failed (is Go installed?): ${err.message}`);
  }
}
