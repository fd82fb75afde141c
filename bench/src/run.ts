// `pnpm bench`: TS and Go rpcx clients and servers side by side, one run on this machine,
// then the side channels' file-transfer throughput (transfer.ts; alone: `pnpm --filter
// @rpcx/bench run bench:transfer`).
// Options: --duration-ms (3000), --warmup-ms (1000), --repeat (3; the median run is kept).
// Each cell is a separate client process against an already warm server process, so the
// client and server never share an event loop. Prints markdown tables of calls/s and
// latency, with ratios against Go → Go, and writes them to bench/results/latest.md.
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTransferBench } from './transfer.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const peer = join(root, 'interop', 'go', 'bin', 'peer');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '3' },
  },
});
const durationMs = Number(values['duration-ms']);
const warmupMs = Number(values['warmup-ms']);
const repeat = Number(values.repeat);

interface Result {
  calls: number;
  errors: number;
  callsPerSec: number;
  p50us: number;
  p99us: number;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
// Interrupted: stop the servers too (the exit handler alone does not run on a signal).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

function startServer(cmd: string, args: string[]): Promise<{ key: string; child: ChildProcess }> {
  // stderr ignored: servers log their shutdown, which would interleave with the tables.
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^LISTENING (\S+)/.exec(line);
      if (m) resolve({ key: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

/** Run a cell `repeat` times and keep the run with the median calls/s (machines are noisy). */
async function median(kind: 'ts' | 'go', servers: string[], clients: number, inflight: number, extra: string[] = []): Promise<Result> {
  const runs: Result[] = [];
  for (let i = 0; i < repeat; i++) runs.push(await runClient(kind, servers, clients, inflight, extra));
  runs.sort((a, b) => a.callsPerSec - b.callsPerSec);
  return runs[Math.floor(runs.length / 2)];
}

function runClient(kind: 'ts' | 'go', servers: string[], clients: number, inflight: number, extra: string[] = []): Promise<Result> {
  const [cmd, args] =
    kind === 'go'
      ? [peer, ['bench-client', '--addr', servers[0], '--clients', String(clients), '--inflight', String(inflight), '--duration', `${durationMs}ms`, '--warmup', `${warmupMs}ms`]]
      : [
          tsx,
          [
            join(root, 'bench', 'src', 'ts-client.ts'),
            ...servers.flatMap((s) => ['--addr', s]),
            '--clients', String(clients),
            '--inflight', String(inflight),
            '--duration-ms', String(durationMs),
            '--warmup-ms', String(warmupMs),
            ...extra,
          ],
        ];
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 1 << 20, timeout: durationMs + warmupMs + 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${kind} client failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Result);
    });
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (us: number) => (us / 1000).toFixed(2);

const goServer = await startServer(peer, ['bench-serve', '--addr', '127.0.0.1:0']);
const tsServer = await startServer(tsx, [join(root, 'bench', 'src', 'ts-server.ts'), '--addr', '127.0.0.1:0']);

const pairs = [
  { name: 'TS → TS', client: 'ts', server: tsServer.key },
  { name: 'Go → TS', client: 'go', server: tsServer.key },
  { name: 'TS → Go', client: 'ts', server: goServer.key },
  { name: 'Go → Go', client: 'go', server: goServer.key },
] as const;
const loads = [
  { name: '1 conn, 1 in flight', clients: 1, inflight: 1 },
  { name: '1 conn, 16 in flight', clients: 1, inflight: 16 },
  { name: '1 conn, 256 in flight', clients: 1, inflight: 256 },
  { name: '100 clients, 1 in flight each', clients: 100, inflight: 1 },
];

const lines: string[] = [];
const say = (s = '') => {
  lines.push(s);
  console.log(s);
};
say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; each cell is the median of ${repeat} runs of ${durationMs} ms after ${warmupMs} ms warm-up, client and server in separate processes.`);
say('Message: rpcx-benchmark BenchmarkMessage (protobuf, 581 bytes), echoed by Hello.Say.');
say();
say('| load | ' + pairs.map((p) => `${p.name} calls/s (p50 / p99 ms)`).join(' | ') + ' | Go → TS ÷ Go → Go | TS → TS ÷ Go → Go |');
say('|---|' + pairs.map(() => '---:').join('|') + '|---:|---:|');
const cells = new Map<string, Result>();
for (const load of loads) {
  const row: string[] = [];
  for (const p of pairs) {
    const r = await median(p.client, [p.server], load.clients, load.inflight);
    cells.set(`${load.name}/${p.name}`, r);
    row.push(`${fmt(r.callsPerSec)} (${ms(r.p50us)} / ${ms(r.p99us)})${r.errors ? ` ⚠ ${r.errors} errors` : ''}`);
  }
  const go = cells.get(`${load.name}/Go → Go`)!.callsPerSec;
  const ratio = (name: string) => (cells.get(`${load.name}/${name}`)!.callsPerSec / go).toFixed(2);
  say(`| ${load.name} | ${row.join(' | ')} | ${ratio('Go → TS')} | ${ratio('TS → TS')} |`);
}

say();
say('Governance overhead (TS client, both servers above in the list, 1 conn each, 16 in flight):');
say();
say('| client stack | calls/s | p50 ms | p99 ms | ratio |');
say('|---|---:|---:|---:|---:|');
const both = [tsServer.key, goServer.key];
const plain = await median('ts', both, 1, 16);
const governed = await median('ts', both, 1, 16, ['--governance']);
say(`| Failfast + random | ${fmt(plain.callsPerSec)} | ${ms(plain.p50us)} | ${ms(plain.p99us)} | 1.00 |`);
say(`| Failover + weighted round robin + breaker | ${fmt(governed.callsPerSec)} | ${ms(governed.p50us)} | ${ms(governed.p99us)} | ${(governed.callsPerSec / plain.callsPerSec).toFixed(2)} |`);

say();
say('Transports (1 conn, 16 in flight):');
say();
say('| network | ' + pairs.map((p) => `${p.name} calls/s (p99 ms)`).join(' | ') + ' |');
say('|---|' + pairs.map(() => '---:').join('|') + '|');
// QUIC servers need a certificate (Go's too); clients do not verify it, as Go's default.
const certDir = mkdtempSync(join(tmpdir(), 'rpcx-bench-'));
const [certPath, keyPath] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
const tlsArgs = (network: string) => (network === 'quic' ? ['--tls-cert', certPath, '--tls-key', keyPath] : []);
for (const network of ['tcp', 'http', 'ws', 'kcp', 'quic']) {
  const go = network === 'tcp' ? goServer : await startServer(peer, ['bench-serve', '--network', network, '--addr', '127.0.0.1:0', ...tlsArgs(network)]);
  const ts = network === 'tcp' ? tsServer : await startServer(tsx, [join(root, 'bench', 'src', 'ts-server.ts'), '--network', network, '--addr', '127.0.0.1:0', ...tlsArgs(network)]);
  const row: string[] = [];
  for (const p of pairs) {
    const r = await median(p.client, [p.server === tsServer.key ? ts.key : go.key], 1, 16);
    row.push(`${fmt(r.callsPerSec)} (${ms(r.p99us)})${r.errors ? ` ⚠ ${r.errors} errors` : ''}`);
  }
  say(`| ${network} | ${row.join(' | ')} |`);
  if (network !== 'tcp') for (const s of [go, ts]) s.child.kill('SIGTERM');
}

for (const s of [goServer, tsServer]) s.child.kill('SIGTERM');

say();
await runTransferBench({ repeat, say });

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'latest.md'), lines.join('\n') + '\n');
