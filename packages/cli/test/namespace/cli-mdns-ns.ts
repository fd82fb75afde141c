// `rpcx list mdns://` and `rpcx call mdns://`, run by cli-registries.test.ts under node:test
// inside a private network namespace (loopback only, multicast routed to lo): two TS servers
// announce themselves with @rpcx/registry-mdns, and the rpcx command, a child of this process
// and so in the namespace too, browses for them.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { mdnsRegisterPlugin } from '@rpcx/registry-mdns';
import { startTsServer } from '../../../../interop/test/support/services.js';
import { rpcx } from '../rpcx-child.js';
import { CLI_MDNS_TESTS } from './names.js';

const interfaces = Object.keys(networkInterfaces());
if (interfaces.length !== 1 || interfaces[0] !== 'lo') {
  process.stderr.write(`refusing to run mDNS tests outside a private network namespace (interfaces: ${interfaces.join(', ')})\n`);
  process.exit(3);
}

test(CLI_MDNS_TESTS[0], { timeout: 60_000 }, async () => {
  const a = await startTsServer();
  const b = await startTsServer();
  try {
    await a.server.use(mdnsRegisterPlugin({ serviceAddress: a.key, instance: 'cli-a', updateIntervalMs: 0 }));
    await b.server.use(mdnsRegisterPlugin({ serviceAddress: b.key, instance: 'cli-b', updateIntervalMs: 0 }));
    const [all, one, called] = await Promise.all([rpcx(['list', 'mdns://', '--json']), rpcx(['list', 'mdns://', 'Arith']), rpcx(['call', 'mdns://', 'Arith.Mul', '{"A":10,"B":20}'])]);
    assert.equal(all.code, 0, all.stderr);
    const listed = JSON.parse(all.stdout) as Record<string, { server: string; metadata: string }[]>;
    assert.deepEqual(Object.keys(listed), ['Arith', 'Echo', 'Int64', 'PB', 'ServiceUser', 'ServiceUserFn', 'Thrift']);
    assert.deepEqual(listed.Arith.map((e) => e.server), [a.key, b.key].sort());
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.split('\n').filter((l) => l.startsWith('Arith')).length, 2);
    assert.equal(called.code, 0, called.stderr);
    assert.deepEqual(JSON.parse(called.stdout), { C: 200 });
  } finally {
    await Promise.all([a.server.shutdown({ timeoutMs: 2000 }), b.server.shutdown({ timeoutMs: 2000 })]);
  }
});
