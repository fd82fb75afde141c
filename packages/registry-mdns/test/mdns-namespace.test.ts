/**
 * mDNS end to end, in a private network namespace: test/namespace/mdns-ns.ts runs under
 * node:test in a child started as
 *   unshare -n sh -c 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo && exec node …'
 * so its multicast never reaches a real interface (the child also refuses to start unless
 * `lo` is its only interface). bonjour never runs in jest's own process. Each child test is
 * reported here as a test of its own. Needs root (or user namespaces) and the `unshare`
 * (util-linux) and `ip` (iproute2) commands.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { REGISTRY_COMPLIANCE_TESTS, runNodeTestFile, type NodeTestRun } from '@rpcx/registry-kit/testing';
import { MDNS_NAMESPACE_TESTS } from './namespace/names.js';

const script = fileURLToPath(new URL('./namespace/mdns-ns.ts', import.meta.url));
const SETUP = 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"';

function requireCommand(command: string, versionFlag: string, aptPackage: string): void {
  try {
    execFileSync(command, [versionFlag], { stdio: 'ignore', timeout: 5000 });
  } catch {
    throw new Error(`\`${command}\` is needed for the mDNS tests: apt-get install -y ${aptPackage}`);
  }
}

let run: NodeTestRun;

beforeAll(async () => {
  requireCommand('unshare', '--version', 'util-linux');
  requireCommand('ip', '-V', 'iproute2');
  run = await runNodeTestFile(script, {
    wrap: (command) => ['unshare', '-n', 'sh', '-c', SETUP, 'mdns-ns', ...command],
    timeoutMs: 150_000,
  });
}, 160_000);

test('the child ran in a namespace whose only interface is lo, and finished', () => {
  expect({ exitCode: run.exitCode, signal: run.signal, guard: run.output.includes('namespace interfaces: lo\n') }).toEqual({
    exitCode: run.results.some((r) => !r.ok) ? 1 : 0,
    signal: null,
    guard: true,
  });
});

test.each([...REGISTRY_COMPLIANCE_TESTS, ...MDNS_NAMESPACE_TESTS])('%s', (name) => {
  const result = run.results.find((r) => r.name === name && !r.suite);
  // On failure the child's error (or its whole output, if the test never ran) is shown.
  expect({ name, ok: result?.ok, error: result ? result.error : run.output.slice(-4000) }).toEqual({ name, ok: true, error: undefined });
});
