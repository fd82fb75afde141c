// Failover across a mixed set of Go rpcx and TS servers: a Go server is SIGKILLed mid-load and
// restarted on the same port; every call succeeds and the restarted server answers again.
import { FailMode, SelectMode } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, multipleServers, selectorFor } from '@rpcx/xclient';
import { startGoServer, type GoServer } from './support/go-peer.js';
import { allCodecs, startTsServer } from './support/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('Go and TS servers behind one Failover client survive a Go server crash and restart', async () => {
  const ts = await Promise.all([startTsServer(), startTsServer()]);
  const go: GoServer[] = await Promise.all([startGoServer(), startGoServer()]);
  const keys = [...ts.map((s) => s.key), ...go.map((g) => g.key)];
  const client = new XClient({
    servicePath: 'Arith',
    discovery: multipleServers(keys.map((key) => ({ key, value: '' }))),
    transports: [tcpTransport()],
    codecs: allCodecs(),
    failMode: FailMode.Failover,
    selector: () => selectorFor(SelectMode.RoundRobin),
  });
  const answered = new Map<string, number>();
  const failures: Error[] = [];
  let running = true;
  let i = 0;
  const worker = async () => {
    while (running) {
      const n = i++;
      const meta: Record<string, string> = {};
      try {
        const r = await client.call<{ C: number }>('Mul', { A: n, B: 2 }, { responseMetadata: meta });
        if (r.C !== n * 2) throw new Error(`wrong reply ${r.C} for ${n}`);
        answered.set(meta.__ServerAddress, (answered.get(meta.__ServerAddress) ?? 0) + 1);
      } catch (err) {
        failures.push(err as Error);
      }
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  const victim = go[0];
  await sleep(300);
  victim.process.kill('SIGKILL');
  await victim.stop();
  await sleep(400);
  const before = answered.get(victim.key) ?? 0;
  const restarted = await startGoServer([], 'serve', victim.address);
  await sleep(700);
  running = false;
  await Promise.all(workers);

  expect(failures).toEqual([]);
  for (const key of keys) expect(answered.get(key) ?? 0).toBeGreaterThan(0);
  expect(answered.get(victim.key)!).toBeGreaterThan(before);
  await client.close();
  await Promise.all([...ts.map((s) => s.server.close()), restarted.stop(), go[1].stop()]);
});
