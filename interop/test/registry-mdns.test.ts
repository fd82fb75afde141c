/**
 * mDNS interop with Go rpcx, in a private network namespace: mdns/mdns-go-ns.ts runs under
 * node:test in a child started as
 *   unshare -n sh -c 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo
 *                    && ip -6 addr add fe80::1/64 dev lo && exec node …'
 * and starts the Go peer (rpcx v1.9.4's in-tree mDNS plugin and discovery) from there, so no
 * multicast reaches a real interface (both the child and the Go peer refuse to run unless `lo`
 * is their only interface). Each child test is reported here as a test of its own.
 */
import { fileURLToPath } from 'node:url';
import { runNodeTestFile, type NodeTestRun } from '@rpcx/registry-kit/testing';
import { MDNS_GO_TESTS } from './mdns/names.js';
import { buildRegpeer } from './support/registry-peer.js';

const script = fileURLToPath(new URL('./mdns/mdns-go-ns.ts', import.meta.url));
// grandcat/zeroconf's Register refuses to announce without one non-loopback address on a
// multicast interface: lo gets a link-local IPv6 one, which routes nowhere (and inside this
// namespace there is nowhere to route to).
const SETUP = 'ip link set lo up multicast on && ip route add 224.0.0.0/4 dev lo && ip -6 addr add fe80::1/64 dev lo && exec "$@"';

let run: NodeTestRun;

beforeAll(async () => {
  buildRegpeer();
  run = await runNodeTestFile(script, {
    wrap: (command) => ['unshare', '-n', 'sh', '-c', SETUP, 'mdns-go-ns', ...command],
    timeoutMs: 120_000,
  });
}, 600_000);

test('the child ran in a namespace whose only interface is lo, and finished', () => {
  expect({ exitCode: run.exitCode, signal: run.signal, guard: run.output.includes('namespace interfaces: lo\n') }).toEqual({
    exitCode: run.results.some((r) => !r.ok) ? 1 : 0,
    signal: null,
    guard: true,
  });
});

test.each([...MDNS_GO_TESTS])('%s', (name) => {
  const result = run.results.find((r) => r.name === name && !r.suite);
  expect({ name, ok: result?.ok, error: result ? result.error : run.output.slice(-4000) }).toEqual({ name, ok: true, error: undefined });
});
