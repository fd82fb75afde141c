// `pnpm bench:profile`: where the time goes. CPU profiles (`node --cpu-prof`) of the TS server
// while the Go client keeps 256 calls in flight on one connection (protobuf), and of the TS
// server and the TS client in one TS → TS run with the raw codec (rpcx's own cost, no codec
// work), summarised as the top frames by self time over the measured window. Prints the
// tables and writes them to bench/results/profile.md (profile-<network>.md for another network); the .cpuprofile files stay in
// bench/results/profiles/ (open them in Chrome DevTools).
// Options: --duration-ms (5000), --inflight (256), --top (12), --network (tcp: any network the
// bench serves — tcp, http, ws, kcp, quic), --codec of the TS → TS run (raw, or protobuf), and
// --ts-go to also profile the TS client against the Go server (protobuf).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench, node, root } from './harness.js';

const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '5000' },
    inflight: { type: 'string', default: '256' },
    top: { type: 'string', default: '12' },
    network: { type: 'string', default: 'tcp' },
    codec: { type: 'string', default: 'raw' },
    'ts-go': { type: 'boolean', default: false },
  },
});
const durationMs = Number(values['duration-ms']);
const inflight = Number(values.inflight);
const top = Number(values.top);
const network = values.network!;
const codec = values.codec!;
if (codec !== 'raw' && codec !== 'protobuf') throw new Error(`--codec must be raw or protobuf, not ${codec}`);
const bench = new Bench({ quick: false, durationMs, warmupMs: 1000, repeat: 1, idleConnections: 0, transferMiB: 0 });
const profiles = join(root, 'bench', 'results', 'profiles');
mkdirSync(profiles, { recursive: true });

interface CpuProfile {
  endTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Top frames by self time over the measured window (the last `durationMs` of the profile but
 * its final 100 ms, which leaves out start-up and module loading); percentages of the time the
 * process was not idle.
 */
function summarise(file: string, title: string): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  const times: number[] = [];
  let t = (profile as unknown as { startTime: number }).startTime;
  for (const dt of profile.timeDeltas) times.push((t += dt));
  const windowEnd = profile.endTime - 100_000;
  const windowStart = windowEnd - durationMs * 1000;
  profile.samples.forEach((id, i) => {
    if (times[i] < windowStart || times[i] > windowEnd) return;
    const frame = byId.get(id)!;
    const dt = profile.timeDeltas[i] ?? 0;
    if (frame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    busy += dt;
    // Lines of TypeScript sources are those of tsx's output: the file says enough.
    const file = frame.url.startsWith('file://') ? relative(root, new URL(frame.url).pathname).replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, '') : frame.url;
    const where = !file ? '' : file.endsWith('.ts') ? file : `${file}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName || '(anonymous)'}\t${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  const out = [
    `${title}: busy ${((100 * busy) / (busy + idle)).toFixed(0)}% of the profile; self time as % of busy time.`,
    '',
    '| self % | function | where |',
    '|---:|---|---|',
    ...rows.map(([key, t]) => {
      const [fn, where] = key.split('\t');
      return `| ${((100 * t) / busy).toFixed(1)} | \`${fn}\` | ${where ? `\`${where}\`` : ''} |`;
    }),
  ];
  return out;
}

/** The one .cpuprofile a process wrote into `dir`, moved to `name`. */
function collect(dir: string, name: string): string {
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile in ${dir}`);
  const to = join(profiles, name);
  renameSync(join(dir, file), to);
  return to;
}

const exited = (child: import('node:child_process').ChildProcess) => new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));

// QUIC servers need a certificate (Go's too); clients do not verify it, as Go's default.
const certDir = mkdtempSync(join(tmpdir(), 'rpcx-profile-'));
process.on('exit', () => rmSync(certDir, { recursive: true, force: true }));
const tls: string[] = [];
if (network === 'quic') {
  const [cert, key] = [join(certDir, 'cert.pem'), join(certDir, 'key.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  tls.push('--tls-cert', cert, '--tls-key', key);
}
/** The TS benchmark server on `network`, writing its CPU profile into `dir`. */
const profiledServer = (dir: string) => bench.startServer(...node('ts-server.ts', ['--network', network, '--addr', '127.0.0.1:0', ...tls], ['--cpu-prof', '--cpu-prof-dir', dir]));
/** Profile files get the network in their name unless it is the default. */
const named = (name: string) => (network === 'tcp' ? name : name.replace(/^ts-/, `${network}-ts-`));

// The TS server, profiled, under the Go client (protobuf).
const serverDir = mkdtempSync(join(profiles, 'server-'));
const tsServer = await profiledServer(serverDir);
const serverRun = await bench.runClient('go', [tsServer.key], { clients: 1, inflight });
tsServer.stop();
await exited(tsServer.child);
const serverProfile = collect(serverDir, named('ts-server-go-client.cpuprofile'));

// TS client → TS server with the chosen codec (raw: rpcx's own cost, no codec work), both profiled.
const rawServerDir = mkdtempSync(join(profiles, 'raw-server-'));
const rawServer = await profiledServer(rawServerDir);
const clientDir = mkdtempSync(join(profiles, 'client-'));
const rawRun = await bench.runClient('ts', [rawServer.key], { clients: 1, inflight }, { args: ['--codec', codec], nodeArgs: ['--cpu-prof', '--cpu-prof-dir', clientDir] });
rawServer.stop();
await exited(rawServer.child);
const rawServerProfile = collect(rawServerDir, named(`ts-server-${codec}.cpuprofile`));
const clientProfile = collect(clientDir, named(`ts-client-${codec}.cpuprofile`));

const rate = (n: number) => Math.round(n).toLocaleString('en-US');
const over = network === 'tcp' ? '' : ` over ${network}`;
const lines = [
  ...summarise(serverProfile, `**TS server**, Go client (protobuf)${over}, 1 connection × ${inflight} in flight (${rate(serverRun.callsPerSec)} calls/s while profiled)`),
  '',
  ...summarise(rawServerProfile, `**TS server**, TS client, ${codec === 'raw' ? 'raw codec' : 'protobuf'}${over}, 1 connection × ${inflight} in flight (${rate(rawRun.callsPerSec)} calls/s while profiled)`),
  '',
  ...summarise(clientProfile, `**TS client**, same run`),
];

// The TS client alone against the Go server (protobuf): the client's share without a TS server.
if (values['ts-go']) {
  const goServer = await bench.goServer(network, tls);
  const goDir = mkdtempSync(join(profiles, 'client-go-'));
  const goRun = await bench.runClient('ts', [goServer.key], { clients: 1, inflight }, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', goDir] });
  goServer.stop();
  const goClientProfile = collect(goDir, named('ts-client-go-server.cpuprofile'));
  lines.push('', ...summarise(goClientProfile, `**TS client**, Go server (protobuf)${over}, 1 connection × ${inflight} in flight (${rate(goRun.callsPerSec)} calls/s while profiled)`));
}
const report = network === 'tcp' ? 'profile.md' : `profile-${network}.md`;
writeFileSync(join(root, 'bench', 'results', report), lines.join('\n') + '\n');
console.log(lines.join('\n'));
bench.stopAll();
