import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { networkQualitySelector, rttToWeight, tcpConnectProbe, type Probe, type ProbeTarget } from '../src/index.js';
import { count, req, servers } from './helpers.js';

const A = 'tcp@10.0.0.1:8972';
const B = 'tcp@10.0.0.2:8972';
const C = 'tcp@10.0.0.3:8972';

/** A probe answering from a table: a number is an rtt, an Error a failure; arrays give successive answers. */
function tableProbe(table: Record<string, number | undefined | Error | (number | Error)[]>) {
  const calls: string[] = [];
  const seen = new Map<string, number>();
  const probe: Probe = async (target) => {
    calls.push(target.key);
    const n = seen.get(target.key) ?? 0;
    seen.set(target.key, n + 1);
    let v = table[target.key];
    if (Array.isArray(v)) v = v[n % v.length];
    if (v instanceof Error) throw v;
    return v;
  };
  return { probe, calls };
}

describe('rttToWeight (Go CalculateWeight)', () => {
  it.each([
    [0, 191],
    [10, 191],
    [10.9, 191], // Go truncates the average to whole milliseconds
    [11, 190],
    [150, 51],
    [200, 1],
    [200.7, 1],
    [201, 1],
    [999, 1],
    [1000, 0],
    [5000, 0],
    [-1, 0],
    [NaN, 0],
  ])('%s ms → %s', (rtt, weight) => {
    expect(rttToWeight(rtt)).toBe(weight);
  });
});

describe('networkQualitySelector', () => {
  it('starts with equal weights and re-weights when the probes finish', async () => {
    const { probe } = tableProbe({ [A]: 5, [B]: 150 });
    const s = networkQualitySelector({ probe });
    s.updateServers(servers({ [A]: '', [B]: '' }));
    // Nothing measured yet: plain alternation, and select did not wait.
    expect([s.select(req()), s.select(req()), s.select(req()), s.select(req())]).toEqual([A, B, A, B]);
    await s.idle();
    expect(s.weights()).toEqual(new Map([[A, 191], [B, 51]]));
    const counts = count(s, 242 * 10);
    expect(counts.get(A)).toBe(1910);
    expect(counts.get(B)).toBe(510);
  });

  it('averages the successful probes and leaves lost ones out', async () => {
    const { probe } = tableProbe({
      [A]: [5, 25, 30], // avg 20 → 181
      [B]: [new Error('lost'), 12, new Error('lost')], // 12 → 189
      [C]: [3, 3, 3, 250, 250, 250], // first round 191, second 1
    });
    const s = networkQualitySelector({ probe });
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '' }));
    await s.idle();
    expect(s.weights()).toEqual(new Map([[A, 181], [B, 189], [C, 191]]));
    await s.refresh();
    expect(s.weights().get(C)).toBe(1);
  });

  it('never selects a server no probe reaches (weight 0), and nothing when none is reachable', async () => {
    const down = new Error('ECONNREFUSED');
    const { probe } = tableProbe({ [A]: 1, [B]: down, [C]: 1500 });
    const s = networkQualitySelector({ probe });
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '' }));
    await s.idle();
    expect(count(s, 1000)).toEqual(new Map([[A, 1000]]));

    const t = networkQualitySelector({ probe: tableProbe({ [A]: down, [B]: down }).probe });
    t.updateServers(servers({ [A]: '', [B]: '' }));
    await t.idle();
    expect(t.select(req())).toBeUndefined();
  });

  it('gives servers the probe cannot measure the unmeasured weight', async () => {
    const { probe } = tableProbe({ [A]: 1, [B]: undefined });
    const s = networkQualitySelector({ probe, unmeasuredWeight: 9 });
    s.updateServers(servers({ [A]: '', [B]: '' }));
    await s.idle();
    expect(s.weights()).toEqual(new Map([[A, 191], [B, 9]]));
  });

  it('measures only new servers on update and keeps known weights', async () => {
    const { probe, calls } = tableProbe({ [A]: 1, [B]: 100, [C]: 50 });
    const s = networkQualitySelector({ probe, probes: 2 });
    s.updateServers(servers({ [A]: '', [B]: '' }));
    await s.idle();
    expect(calls.sort()).toEqual([A, A, B, B]);
    calls.length = 0;
    s.updateServers(servers({ [A]: '', [B]: '', [C]: '' }));
    await s.idle();
    expect(calls).toEqual([C, C]);
    expect(s.weights()).toEqual(new Map([[A, 191], [B, 101], [C, 151]]));
  });

  it('drops the measurement of a server removed while it was being probed', async () => {
    let release!: (rtt: number) => void;
    let bProbes = 0;
    const probe: Probe = (t) => {
      if (t.key !== B) return Promise.resolve(1);
      return ++bProbes === 1 ? new Promise<number>((r) => (release = r)) : Promise.resolve(100);
    };
    const s = networkQualitySelector({ probe, probes: 1 });
    s.updateServers(servers({ [A]: '', [B]: '' }));
    s.updateServers(servers({ [A]: '' }));
    release(1);
    await s.idle();
    expect(s.weights()).toEqual(new Map([[A, 191]]));
    expect(count(s, 100)).toEqual(new Map([[A, 100]]));
    // Back again: measured afresh, not given the stale result.
    s.updateServers(servers({ [A]: '', [B]: '' }));
    await s.idle();
    expect(bProbes).toBe(2);
    expect(s.weights()).toEqual(new Map([[A, 191], [B, 101]]));
  });

  it('counts a probe over the time limit as lost and aborts it', async () => {
    const signals: AbortSignal[] = [];
    const s = networkQualitySelector({
      probe: (_t, signal) => {
        signals.push(signal);
        return new Promise(() => {}); // never answers, ignores the signal
      },
      timeoutMs: 5,
    });
    s.updateServers(servers({ [A]: '' }));
    await s.idle();
    expect(s.weights().get(A)).toBe(0);
    expect(signals).toHaveLength(3);
    expect(signals.every((sig) => sig.aborted)).toBe(true);
  });

  it('re-measures periodically until stopped', async () => {
    let rounds = 0;
    let wake!: () => void;
    const second = new Promise<void>((r) => (wake = r));
    const s = networkQualitySelector({
      probes: 1,
      reprobeIntervalMs: 5,
      probe: async () => {
        if (++rounds === 2) wake();
        return rounds === 1 ? 1 : 300;
      },
    });
    s.updateServers(servers({ [A]: '' }));
    await second;
    s.stop();
    await s.idle();
    // After stop nothing is measured, not even a new server.
    const before = rounds;
    s.updateServers(servers({ [A]: '', [B]: '' }));
    expect(rounds).toBe(before);
    expect(s.weights().get(B)).toBe(1);
    // start() picks the unmeasured server up again.
    s.start();
    await s.idle();
    expect(rounds).toBe(before + 1);
    s.stop();
  });
});

describe('tcpConnectProbe', () => {
  let server: Server;
  let port: number;
  let dir: string;
  let unixServer: Server;
  const signal = new AbortController().signal;
  const target = (key: string): ProbeTarget => {
    const at = key.indexOf('@');
    return { key, network: key.slice(0, at), address: key.slice(at + 1) };
  };

  beforeAll(async () => {
    server = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'rpcx-probe-'));
    unixServer = createServer((sock) => sock.destroy());
    await new Promise<void>((r) => unixServer.listen(join(dir, 's.sock'), r));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await new Promise((r) => unixServer.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('measures a TCP handshake on loopback', async () => {
    const rtt = await tcpConnectProbe(target(`tcp@127.0.0.1:${port}`), signal);
    expect(typeof rtt).toBe('number');
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(rtt)).toBe(true);
  });

  it('measures a unix socket connect', async () => {
    const rtt = await tcpConnectProbe(target(`unix@${join(dir, 's.sock')}`), signal);
    expect(Number.isFinite(rtt)).toBe(true);
  });

  it('rejects when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    await expect(tcpConnectProbe(target(`tcp@127.0.0.1:${freePort}`), signal)).rejects.toMatchObject({ name: 'DialError', cause: { code: 'ECONNREFUSED' } });
  });

  it('cannot measure networks without a TCP listener, or bad addresses', async () => {
    await expect(tcpConnectProbe(target('kcp@127.0.0.1:8972'), signal)).resolves.toBeUndefined();
    await expect(tcpConnectProbe(target('quic@127.0.0.1:8972'), signal)).resolves.toBeUndefined();
    await expect(tcpConnectProbe(target('tcp@no-port'), signal)).resolves.toBeUndefined();
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    ac.abort(reason);
    await expect(tcpConnectProbe(target(`tcp@127.0.0.1:${port}`), ac.signal)).rejects.toBe(reason);
  });

  it('drives the selector end to end: a closed port is never selected', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const up = `tcp@127.0.0.1:${port}`;
    const down = `tcp@127.0.0.1:${freePort}`;
    const s = networkQualitySelector();
    s.updateServers(servers({ [up]: '', [down]: '' }));
    await s.idle();
    expect(s.weights().get(up)).toBeGreaterThan(0);
    expect(s.weights().get(down)).toBe(0);
    expect(count(s, 500)).toEqual(new Map([[up, 500]]));
  });
});
