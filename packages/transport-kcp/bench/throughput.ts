// Throughput of @rpcx/transport-kcp on loopback, and of its KCP core alone.
//
//   npx tsx packages/transport-kcp/bench/throughput.ts [MiB]
//
// 1. The KCP core (src/kcp.ts) between two instances in memory, no FEC, no crypt, no
//    sockets: what the TypeScript ARQ itself costs.
// 2. The transport, one way, client → server, with the server in a child process so each end
//    has its own thread: kcp-go's defaults (windows 32, interval 100 ms, congestion control)
//    and KCP's "fast" profile (nodelay, 10 ms, fast resend 2, no congestion window,
//    windows 256).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Kcp } from '../src/kcp.js';
import { StatsSink, newStats } from '../src/stats.js';
import { kcpTransport, type KcpTransportOptions } from '../src/index.js';

const MiB = 1 << 20;

const profiles: Record<string, KcpTransportOptions> = {
  'kcp-go defaults': {},
  fast: { noDelay: true, interval: 10, fastResend: 2, noCongestionWindow: true, sndWnd: 256, rcvWnd: 256, socketBufferBytes: 4 * MiB },
};

function coreOnly(bytes: number): { mbps: number } {
  const settings = {
    mtu: 1400,
    reserved: 28,
    sndWnd: 256,
    rcvWnd: 256,
    noDelay: true,
    interval: 10,
    fastResend: 2,
    noCongestionWindow: true,
    stream: true,
  };
  const stats = new StatsSink(newStats());
  let a!: Kcp;
  let b!: Kcp;
  const toB: Uint8Array[] = [];
  const toA: Uint8Array[] = [];
  a = new Kcp(1, settings, (buf, size) => toB.push(buf.slice(28, size)), stats);
  b = new Kcp(1, settings, (buf, size) => toA.push(buf.slice(28, size)), stats);
  const chunk = new Uint8Array(64 * 1024);
  let sent = 0;
  let received = 0;
  const started = performance.now();
  while (received < bytes) {
    if (sent < bytes && a.sndQueueLength < 512) {
      a.send(chunk);
      sent += chunk.length;
    }
    a.flush();
    for (const p of toB.splice(0)) b.input(p, true);
    for (const d of b.drain()) received += d.length;
    b.flush(true);
    for (const p of toA.splice(0)) a.input(p, true);
  }
  return { mbps: bytes / MiB / ((performance.now() - started) / 1000) };
}

async function transportRun(name: string, options: KcpTransportOptions, bytes: number) {
  const child = fork(fileURLToPath(import.meta.url), ['--server', JSON.stringify({ options, bytes })], {
    execArgv: ['--import', 'tsx'],
  });
  const address = await new Promise<string>((resolve) => child.once('message', (m) => resolve(m as string)));
  const transport = kcpTransport(options);
  const connection = await transport.dial('kcp', address);
  connection.setHandler({ onData: () => {}, onClose: () => {} });
  const done = new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const block = Buffer.alloc(256 * 1024, 7);
  // Keep about 4 MiB queued at a time, as a sender with back-pressure would.
  let written = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (written < bytes && connection.pendingBytes < 4 * MiB) {
        connection.write(block.subarray(0, Math.min(block.length, bytes - written)));
        written += Math.min(block.length, bytes - written);
      }
      if (written >= bytes) resolve();
      else setTimeout(pump, 1);
    };
    pump();
  });
  const serverMs = await done;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = transport.stats;
  console.log(
    `${name.padEnd(16)} ${(bytes / MiB / seconds).toFixed(1).padStart(6)} MiB/s  ` +
      `(${bytes / MiB} MiB in ${seconds.toFixed(2)} s; process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s; ` +
      `datagrams out ${s.outPkts}, retransmitted segments ${s.retransSegs}, server done at ${serverMs.toFixed(0)} ms)`,
  );
  await connection.close();
  child.kill();
}

if (process.argv[2] !== '--server') {
  const mib = Number(process.argv[2] ?? 64);
  const core = coreOnly(mib * MiB);
  console.log(`KCP core alone  ${core.mbps.toFixed(1).padStart(6)} MiB/s  (two instances in memory, no FEC, crypt or sockets)`);
  for (const [name, options] of Object.entries(profiles)) await transportRun(name, options, mib * MiB);
} else {
  const { options, bytes } = JSON.parse(process.argv[3]) as { options: KcpTransportOptions; bytes: number };
  const transport = kcpTransport(options);
  let started = 0;
  const listener = await transport.listen('kcp', '127.0.0.1:0', (c) => {
    let received = 0;
    c.setHandler({
      onData: (d) => {
        if (started === 0) started = performance.now();
        received += d.length;
        if (received >= bytes) process.send!(performance.now() - started);
      },
      onClose: () => {},
    });
  });
  process.send!(listener.address);
}
