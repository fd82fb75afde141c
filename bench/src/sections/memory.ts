// Server memory: RSS per idle connection (N connections that made one call each and wait), and
// the RSS peak under 256 calls in flight on one connection; TS server against Go server, each
// measured on a fresh process.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { medianOf, mib, node, root, rssOf, type Bench, type Section, type ServerProcess } from '../harness.js';

const settle = (msWait: number) => new Promise((r) => setTimeout(r, msWait));

/** Hold `count` idle connections to `key` open; resolves with a function that closes them. */
function holdIdle(bench: Bench, key: string, count: number): Promise<() => Promise<void>> {
  const [cmd, args] = node('idle-conns.ts', ['--addr', key, '--count', String(count)]);
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY')) {
        resolve(() => {
          const exited = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGTERM');
          return exited;
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`idle-conns exited with ${code}`)));
  });
}

interface Sample {
  base: number;
  idle: number;
  perConnection: number;
  loaded: number;
}

async function measure(bench: Bench, start: () => Promise<ServerProcess>, count: number): Promise<Sample> {
  const server = await start();
  try {
    await settle(500);
    const base = rssOf(server.pid);
    const release = await holdIdle(bench, server.key, count);
    await settle(1000);
    const idle = rssOf(server.pid);
    await release();
    await settle(500);
    const run = await bench.runClient('go', [server.key], { clients: 1, inflight: 256 }, { watch: server.pid });
    return { base, idle, perConnection: (idle - base) / count, loaded: run.serverRss ?? 0 };
  } finally {
    server.stop();
  }
}

export const memorySection: Section = {
  name: 'memory',
  async run(bench) {
    const { say, options } = bench;
    const count = options.idleConnections;
    // Fresh servers each time, so at most 3 rounds: every round opens `count` connections twice.
    const rounds = Math.min(options.repeat, 3);
    const samples = { ts: [] as Sample[], go: [] as Sample[] };
    for (let i = 0; i < rounds; i++) {
      bench.note(`memory TS (${i + 1}/${rounds})`);
      samples.ts.push(await measure(bench, () => bench.tsServer(), count));
      bench.note(`memory Go (${i + 1}/${rounds})`);
      samples.go.push(await measure(bench, () => bench.goServer(), count));
    }
    const med = (list: Sample[], f: (s: Sample) => number) => medianOf(list.map(f));
    say('### Server memory');
    say();
    say(
      `RSS of a fresh server process, median of ${rounds} rounds (TS and Go alternating): at rest, with ${count.toLocaleString('en-US')} idle connections ` +
        '(each made one call, then waits), and its peak while the Go client keeps 256 calls in flight on one connection for one run.',
    );
    say();
    say('| server | RSS at rest, MiB | with idle connections, MiB | bytes per idle connection | peak RSS at 256 in flight, MiB |');
    say('|---|---:|---:|---:|---:|');
    for (const [name, list] of [['TS', samples.ts], ['Go', samples.go]] as const) {
      say(`| ${name} | ${mib(med(list, (s) => s.base))} | ${mib(med(list, (s) => s.idle))} | ${Math.round(med(list, (s) => s.perConnection)).toLocaleString('en-US')} | ${mib(med(list, (s) => s.loaded))} |`);
    }
  },
};
