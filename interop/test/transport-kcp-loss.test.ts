// KCP with 10% of the datagrams dropped in each direction, against real Go rpcx (kcp-go):
// calls still succeed, and FEC recovery is counted on both sides. Our side drops with the
// transport's `simulatedLoss` option in its UDP send path; the Go peer drops in a wrapping
// net.PacketConn (RPCX_PEER_KCP_LOSS, interop/go/cmd/peer/kcp.go) and reports kcp-go's
// DefaultSnmp counters. The loss is random, so the counts vary from run to run; the
// assertions only need them above zero.
import { execFile } from 'node:child_process';
import { SerializeType } from '@rpcx/core';
import { kcpTransport, type KcpTransport } from '@rpcx/transport-kcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { PEER, startListeningPeer } from './support/go-peer.js';
import { allCodecs, startTsServer } from './support/services.js';

const LOSS = 0.1;
const peerEnv = { ...process.env, RPCX_PEER_KCP_LOSS: String(LOSS) };

interface Snmp {
  FECRecovered: number;
  FECParityShards: number;
  Dropped: number;
  OutPkts: number;
  RetransSegs: number;
}

/** The Go peer's `client` subcommand with loss, to completion; its JSON result. */
function runLossyGoClient(args: string[], timeoutMs = 90_000): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(PEER, args, { env: peerEnv, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`peer ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      } catch {
        reject(new Error(`peer printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}

/** `peer serve --network kcp` with loss; resolves once it prints its LISTENING line. */
async function startLossyGoServer(): Promise<{ key: string; snmp(): Promise<Snmp>; stop(): Promise<void> }> {
  const snmpWaiters: ((s: Snmp) => void)[] = [];
  const peer = await startListeningPeer('Go peer', PEER, ['serve', '--addr', '127.0.0.1:0', '--network', 'kcp'], {
    env: peerEnv,
    onStderrLine: (line) => {
      const m = /^KCP-SNMP (\{.*\})$/.exec(line);
      if (m) snmpWaiters.shift()?.(JSON.parse(m[1]));
    },
  });
  return {
    key: peer.key,
    snmp: () =>
      new Promise<Snmp>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the Go peer printed no KCP-SNMP line')), 5000);
        snmpWaiters.push((s) => {
          clearTimeout(timer);
          resolve(s);
        });
        peer.child.kill('SIGUSR1');
      }),
    stop: peer.stop,
  };
}

/** 256 KiB, byte i = i*31 + i>>7 (mod 256), as the Go peer's kcp-loss scenario sends. */
function payload(): Buffer {
  const b = Buffer.alloc(256 << 10);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 7)) & 0xff;
  return b;
}

describe('KCP with 10% loss each way: Go rpcx client → TS server', () => {
  let transport: KcpTransport;
  let ts: Awaited<ReturnType<typeof startTsServer>>;

  beforeAll(async () => {
    transport = kcpTransport({ simulatedLoss: LOSS });
    ts = await startTsServer({ transports: [transport] }, 'kcp');
  });
  afterAll(async () => {
    await ts?.server.close();
  });

  test('20 calls and a 256 KiB echo succeed; both sides rebuild lost datagrams from parity', async () => {
    const r = await runLossyGoClient(['client', '--addr', ts.key, '--scenario', 'kcp-loss']);
    expect(r).toMatchObject({ ok: true, calls: 20, echoBytes: 256 << 10, echoMatch: true, pass: true });
    const go = r.snmp as Snmp;
    const ours = transport.stats;
    // Both sides really dropped datagrams…
    expect(go.Dropped).toBeGreaterThan(0);
    expect(ours.simulatedDrops).toBeGreaterThan(0);
    // …and rebuilt some of the other side's from its parity: Go from ours, we from Go's.
    expect(go.FECParityShards).toBeGreaterThan(0);
    expect(go.FECRecovered).toBeGreaterThan(0);
    expect(ours.fecParityShards).toBeGreaterThan(0);
    expect(ours.fecRecovered).toBeGreaterThan(0);
    console.log(
      `kcp loss, Go client → TS server: Go dropped ${go.Dropped}/${go.Dropped + go.OutPkts} and recovered ${go.FECRecovered} (retransmitted ${go.RetransSegs}); ` +
        `TS dropped ${ours.simulatedDrops}/${ours.simulatedDrops + ours.outPkts} and recovered ${ours.fecRecovered} (retransmitted ${ours.retransSegs})`,
    );
  }, 100_000);
});

describe('KCP with 10% loss each way: TS client → Go rpcx server', () => {
  let go: Awaited<ReturnType<typeof startLossyGoServer>>;
  let transport: KcpTransport;
  const clients: XClient[] = [];

  beforeAll(async () => {
    go = await startLossyGoServer();
    transport = kcpTransport({ simulatedLoss: LOSS });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await go?.stop();
  });

  test('20 calls and a 256 KiB echo succeed; both sides rebuild lost datagrams from parity', async () => {
    const options = { discovery: peer2peer(go.key), transports: [transport], codecs: allCodecs() };
    const arith = new XClient({ servicePath: 'Arith', ...options });
    const echo = new XClient({ servicePath: 'Echo', serializeType: SerializeType.None, ...options });
    clients.push(arith, echo);
    for (let i = 1; i <= 20; i++) {
      expect(await arith.call('Mul', { A: i, B: 7 }, { timeoutMs: 30_000 })).toEqual({ C: i * 7 });
    }
    const sent = payload();
    const back = await echo.call<Uint8Array>('Echo', sent, { timeoutMs: 80_000 });
    expect(Buffer.from(back).equals(sent)).toBe(true);

    const goSnmp = await go.snmp();
    const ours = transport.stats;
    expect(goSnmp.Dropped).toBeGreaterThan(0);
    expect(ours.simulatedDrops).toBeGreaterThan(0);
    expect(goSnmp.FECParityShards).toBeGreaterThan(0);
    expect(goSnmp.FECRecovered).toBeGreaterThan(0);
    expect(ours.fecParityShards).toBeGreaterThan(0);
    expect(ours.fecRecovered).toBeGreaterThan(0);
    console.log(
      `kcp loss, TS client → Go server: Go dropped ${goSnmp.Dropped}/${goSnmp.Dropped + goSnmp.OutPkts} and recovered ${goSnmp.FECRecovered} (retransmitted ${goSnmp.RetransSegs}); ` +
        `TS dropped ${ours.simulatedDrops}/${ours.simulatedDrops + ours.outPkts} and recovered ${ours.fecRecovered} (retransmitted ${ours.retransSegs})`,
    );
  }, 100_000);
});
