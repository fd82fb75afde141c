// `pnpm --filter @rpcx/bench run bench:observe`: the observability overhead rows of `pnpm bench`
// alone (TS → TS over tcp, 1 connection, 16 in flight, the same stack on client and server),
// runs alternating between the stacks, the median run of each kept. With `--profile`, one more
// run per stack with `node --cpu-prof` on both processes, summarised as the top frames by self
// time (the .cpuprofile files stay in bench/results/profiles/, for Chrome DevTools).
// Options: --duration-ms (3000), --warmup-ms (1000), --repeat (5), --top (12),
// --stacks (comma-separated names below; all by default), --profile.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const src = (file: string) => join(root, 'bench', 'src', file);
const { values } = parseArgs({
  options: {
    'duration-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '5' },
    top: { type: 'string', default: '12' },
    stacks: { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
});
const durationMs = Number(values['duration-ms']);
const warmupMs = Number(values['warmup-ms']);
const repeat = Number(values.repeat);

const allStacks = [
  { name: 'plain', parts: undefined },
  { name: 'sdk', parts: 'sdk' },
  { name: 'prometheus', parts: 'prometheus' },
  { name: 'tracing', parts: 'tracing' },
  { name: 'ratelimit', parts: 'ratelimit' },
  { name: 'all', parts: 'tracing,prometheus,ratelimit' },
  { name: 'all-sampled-10%', parts: 'tracing,sampled-10%,prometheus,ratelimit' },
];
const wanted = values.stacks?.split(',');
const stacks = wanted ? allStacks.filter((s) => wanted.includes(s.name)) : allStacks;

interface Result {
  callsPerSec: number;
  p50us: number;
  p99us: number;
  errors: number;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

function startServer(nodeArgs: string[], parts: string | undefined): Promise<{ key: string; child: ChildProcess }> {
  const args = [...nodeArgs, '--import', 'tsx', src('ts-server.ts'), '--addr', '127.0.0.1:0', ...(parts ? ['--observe', parts] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^LISTENING (\S+)/.exec(line);
      if (m) resolve({ key: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function runClient(nodeArgs: string[], server: string, parts: string | undefined): Promise<Result> {
  const args = [...nodeArgs, '--import', 'tsx', src('ts-client.ts'), '--addr', server, '--inflight', '16', '--duration-ms', String(durationMs), '--warmup-ms', String(warmupMs), ...(parts ? ['--observe', parts] : [])];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { timeout: durationMs + warmupMs + 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`client failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Result);
    });
  });
}

/** Stops a server by its PID and waits for it to exit (its profile is written then). */
function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

console.log(`load average before: ${load()}; ${repeat} alternating runs of ${durationMs} ms after ${warmupMs} ms warm-up, median kept`);
const servers = await Promise.all(stacks.map((s) => startServer([], s.parts)));
const runs: Result[][] = stacks.map(() => []);
for (let i = 0; i < repeat; i++) {
  for (const [j, s] of stacks.entries()) runs[j].push(await runClient([], servers[j].key, s.parts));
}
await Promise.all(servers.map((s) => stop(s.child)));
const median = (rs: Result[]) => [...rs].sort((a, b) => a.callsPerSec - b.callsPerSec)[Math.floor(rs.length / 2)];
const plain = median(runs[0]);
console.log(`load average after: ${load()}`);
console.log('| stack | calls/s (median) | runs | p50 ms | p99 ms | ratio |');
console.log('|---|---:|---|---:|---:|---:|');
for (const [j, s] of stacks.entries()) {
  const m = median(runs[j]);
  const all = runs[j].map((r) => fmt(r.callsPerSec)).join(', ');
  console.log(`| ${s.name} | ${fmt(m.callsPerSec)} | ${all} | ${(m.p50us / 1000).toFixed(2)} | ${(m.p99us / 1000).toFixed(2)} | ${(m.callsPerSec / plain.callsPerSec).toFixed(2)} |`);
}

if (values.profile) {
  const profiles = join(root, 'bench', 'results', 'profiles');
  mkdirSync(profiles, { recursive: true });
  for (const s of stacks) {
    const serverDir = mkdtempSync(join(profiles, 'server-'));
    const clientDir = mkdtempSync(join(profiles, 'client-'));
    const server = await startServer(['--cpu-prof', '--cpu-prof-dir', serverDir], s.parts);
    const r = await runClient(['--cpu-prof', '--cpu-prof-dir', clientDir], server.key, s.parts);
    await stop(server.child);
    console.log(`\n### ${s.name} (${fmt(r.callsPerSec)} calls/s while profiled)`);
    for (const [side, dir] of [['server', serverDir], ['client', clientDir]]) {
      const file = join(profiles, `${s.name}-${side}.cpuprofile`);
      renameSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!), file);
      rmSync(dir, { recursive: true });
      console.log(`\n${side}:\n${summarise(file).join('\n')}`);
    }
  }
}

interface CpuProfile {
  startTime: number;
  endTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** Top frames by self time over the measured window (the last `durationMs` before the final 200 ms), as % of busy time. */
function summarise(file: string): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  let t = profile.startTime;
  const end = profile.endTime - 200_000;
  const start = end - durationMs * 1000;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i];
    t += dt;
    if (t < start || t > end) return;
    const frame = frames.get(id)!;
    if (frame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    busy += dt;
    const path = frame.url.startsWith('file://') ? relative(root, fileURLToPath(frame.url)).replace(/^.*node_modules\//, '') : frame.url;
    const key = `${frame.functionName || '(anonymous)'} ${path}${path ? `:${frame.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  return [`busy ${((100 * busy) / (busy + idle)).toFixed(0)}%`, ...rows.map(([k, v]) => `${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`)];
}
