// The calls table with the processes pinned to cores (`taskset`), where the machine's scheduling
// is taken out of two of its cells:
// - 1 call in flight with the client and the server on the same core. Unpinned, such a call is
//   two wake-ups across cores, and on a virtual machine a wake-up can cost more than the call's
//   own work (here: about 190 µs a call unpinned, 60 µs on one core for Go → Go, p99 several
//   times over): the calls table's first row measures the machine as much as the software.
// - 100 connections × 1 with the Go client on one core and the server on another: each gets a
//   core of its own, so the server's calls/s is what one core of it does, and its CPU per call
//   is not blurred by Go's runtime spinning on the core the client needs.
import { cpus } from 'node:os';
import { canPin, interleaved, ms, node, peer, pinned, ratio, spread, type Bench, type Section, type ServerProcess } from '../harness.js';
import { columns, type ServerName } from './calls.js';

/** The core of the one-core table, and the client's core in the 100-connection table. */
const CORE = '0';
/** The server's core in the 100-connection table. */
const SERVER_CORE = '1';

/** The calls table's pairs but grpc-js: the goal compares rpcx's pairs with Go → Go's and the limit. */
const pairs = columns.filter((c) => c.server !== 'grpc');

/** A benchmark server on the given cores. */
function startPinned(bench: Bench, server: Exclude<ServerName, 'grpc'>, cores: string): Promise<ServerProcess> {
  const [cmd, args] =
    server === 'raw'
      ? node('raw-echo.ts', ['--serve'])
      : server === 'ts'
        ? node('ts-server.ts', ['--network', 'tcp', '--addr', '127.0.0.1:0'])
        : [peer, ['bench-serve', '--network', 'tcp', '--addr', '127.0.0.1:0']];
  return bench.startServer(...pinned(cores, cmd, args));
}

async function oneCore(bench: Bench): Promise<void> {
  const { say, options } = bench;
  const servers = new Map<ServerName, ServerProcess>();
  let cells;
  try {
    for (const name of ['raw', 'ts', 'go'] as const) servers.set(name, await startPinned(bench, name, CORE));
    cells = await interleaved(
      bench,
      pairs.map((c) => ({
        key: c.name,
        run: () => bench.runClient(c.client, [servers.get(c.server)!.key], { clients: 1, inflight: 1 }, { args: c.extra, cpus: CORE }),
      })),
    );
  } finally {
    for (const s of servers.values()) s.stop();
  }
  const go = cells.get('Go → Go')!;
  say(
    `**One call in flight on one core.** 1 connection, tcp; the client, the server and all their threads on core ${CORE} (\`taskset -c ${CORE}\`); ` +
      `median of ${options.repeat} interleaved runs (min–max). The pairs of the calls table's first row, without the wake-ups across cores.`,
  );
  say();
  say('| pair | calls/s | p50 µs | p99 µs | p99 ÷ Go → Go (≤ 1.5) |');
  say('|---|---:|---:|---:|---:|');
  for (const c of pairs) {
    const cell = cells.get(c.name)!;
    say(`| ${c.name} | ${spread(cell)} | ${Math.round(cell.p50us)} | ${Math.round(cell.p99us)} | ${ratio(cell.p99us, go.p99us)} |`);
  }
}

async function coreEach(bench: Bench): Promise<void> {
  const { say, options } = bench;
  const servers = new Map<'ts' | 'go', ServerProcess>();
  let cells;
  try {
    for (const name of ['ts', 'go'] as const) servers.set(name, await startPinned(bench, name, SERVER_CORE));
    cells = await interleaved(
      bench,
      (['ts', 'go'] as const).map((name) => ({
        key: name,
        run: () => bench.runClient('go', [servers.get(name)!.key], { clients: 100, inflight: 1 }, { cpus: CORE, watch: servers.get(name)!.pid }),
      })),
    );
  } finally {
    for (const s of servers.values()) s.stop();
  }
  const ts = cells.get('ts')!;
  const go = cells.get('go')!;
  const us = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));
  say(
    `**100 connections × 1 in flight, a core each.** The Go client on core ${CORE}, the server on core ${SERVER_CORE}, protobuf; ` +
      `median of ${options.repeat} interleaved runs (min–max), p99 in ms; server CPU per call as in the calls section. ` +
      'Each process has a core of its own: the server does what one core of it can.',
  );
  say();
  say('| server | calls/s | p99 ms | server CPU per call, µs |');
  say('|---|---:|---:|---:|');
  say(`| TS | ${spread(ts)} | ${ms(ts.p99us)} | ${us(ts.serverCpuUsPerCall)} |`);
  say(`| Go | ${spread(go)} | ${ms(go.p99us)} | ${us(go.serverCpuUsPerCall)} |`);
  say(`| TS ÷ Go | ${ratio(ts.median, go.median)} | ${ratio(ts.p99us, go.p99us)} | ${ratio(ts.serverCpuUsPerCall, go.serverCpuUsPerCall)} |`);
}

export const pinnedSection: Section = {
  name: 'pinned',
  async run(bench) {
    const { say } = bench;
    say('### Pinned to cores');
    say();
    if (!canPin(CORE)) {
      say('Skipped: `taskset` (util-linux) cannot pin processes on this machine.');
      return;
    }
    await oneCore(bench);
    say();
    if (cpus().length < 2 || !canPin(SERVER_CORE)) say(`The 100-connection table needs core ${SERVER_CORE} too: skipped.`);
    else await coreEach(bench);
  },
};
