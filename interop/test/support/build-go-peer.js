// jest globalSetup: build the Go interop peer once per test run (Go's build cache makes a
// rebuild take a second). The interop tests fail with this message if Go is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Build tags of the optional networks, space-separated as `go build -tags` takes them
// (kcp: interop/go/cmd/peer/kcp.go; quic: interop/go/cmd/peer/quic.go).
const TAGS = 'kcp quic';

export default function buildGoPeer() {
  const goDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go');
  if (!existsSync(join(goDir, 'go.mod'))) return;
  try {
    execFileSync('go', ['build', '-tags', TAGS, '-o', 'bin/peer', './cmd/peer'], { cwd: goDir, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new Error(`building the Go interop peer failed (is Go installed?): ${err.message}`);
  }
}
