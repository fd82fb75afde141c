// One call in flight with the client and the server on the same core. Unpinned, a call at 1 in
// flight is two wake-ups across cores, and on a virtual machine such a wake-up can cost more
// than the call's own work (here: about 190 µs a call unpinned, 60 µs pinned to one core for
// Go → Go, p99 several times over): the calls table's first row measures the machine as much as
// the software. Pinned, nothing waits for another core, and what is left is the two processes'
// own work per call, GC pauses included.
import { canPin, interleaved, node, peer, pinned, ratio, spread, type Section, type ServerProcess } from '../harness.js';
import { columns, type ServerName } from './calls.js';

/** The core every process of this section runs on. */
const CORE = '0';

/** The calls table's pairs but grpc-js: the goal compares rpcx's pairs with Go → Go's and the limit. */
const pairs = columns.filter((c) => c.server !== 'grpc');

export const oneCoreSection: Section = {
  name: 'one-core',
  async run(bench) {
    const { say, options } = bench;
    say('### One call in flight on one core');
    say();
    if (!canPin()) {
      say('Skipped: `taskset` (util-linux) cannot pin processes on this machine.');
      return;
    }
    const start = (cmd: string, args: string[]) => bench.startServer(...pinned(CORE, cmd, args));
    const servers: Partial<Record<ServerName, ServerProcess>> = {
      raw: await start(...node('raw-echo.ts', ['--serve'])),
      ts: await start(...node('ts-server.ts', ['--network', 'tcp', '--addr', '127.0.0.1:0'])),
      go: await start(peer, ['bench-serve', '--network', 'tcp', '--addr', '127.0.0.1:0']),
    };
    const load = { clients: 1, inflight: 1 };
    let cells;
    try {
      cells = await interleaved(
        bench,
        pairs.map((c) => ({
          key: c.name,
          run: () => bench.runClient(c.client, [servers[c.server]!.key], load, { args: c.extra, cpus: CORE }),
        })),
      );
    } finally {
      for (const s of Object.values(servers)) s!.stop();
    }
    const go = cells.get('Go → Go')!;
    say(
      `1 connection, 1 call in flight, tcp; the client, the server and all their threads on core ${CORE} (\`taskset -c ${CORE}\`); ` +
        `median of ${options.repeat} interleaved runs (min–max). The same pairs as the calls table's first row, without the wake-ups across cores.`,
    );
    say();
    say('| pair | calls/s | p50 µs | p99 µs | p99 ÷ Go → Go (≤ 1.5) |');
    say('|---|---:|---:|---:|---:|');
    for (const c of pairs) {
      const cell = cells.get(c.name)!;
      say(`| ${c.name} | ${spread(cell)} | ${Math.round(cell.p50us)} | ${Math.round(cell.p99us)} | ${ratio(cell.p99us, go.p99us)} |`);
    }
  },
};
