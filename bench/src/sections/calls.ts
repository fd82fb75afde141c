// The main table: calls/s and p99 of every client/server pair at every load, next to the
// limit (a raw Node framed echo) and grpc-js, and the ratios the performance goals name.
import { lineChart } from '../chart.js';
import { interleaved, ms, node, ratio, spread, type Bench, type Cell, type ClientKind, type Section, type ServerProcess } from '../harness.js';

export type ServerName = 'raw' | 'ts' | 'go' | 'grpc';

export interface Column {
  name: string;
  client: ClientKind;
  server: ServerName;
  extra?: string[];
}

/** The pairs of the table, in its column order (the pinned section runs all but grpc-js). */
export const columns: Column[] = [
  { name: 'limit: raw Node echo', client: 'raw', server: 'raw' },
  { name: 'TS → TS raw', client: 'ts', server: 'ts', extra: ['--codec', 'raw'] },
  { name: 'TS → TS protobuf', client: 'ts', server: 'ts' },
  { name: 'Go → TS', client: 'go', server: 'ts' },
  { name: 'TS → Go', client: 'ts', server: 'go' },
  { name: 'Go → Go', client: 'go', server: 'go' },
  { name: 'grpc-js', client: 'grpc', server: 'grpc' },
];

interface Load {
  name: string;
  /** Short label for the chart. */
  label: string;
  clients: number;
  inflight: number;
  /** Only the Go client drives this many connections. */
  goClientOnly?: boolean;
}

const loads: Load[] = [
  { name: '1 conn × 1 in flight', label: '1', clients: 1, inflight: 1 },
  { name: '1 conn × 16 in flight', label: '16', clients: 1, inflight: 16 },
  { name: '1 conn × 256 in flight', label: '256', clients: 1, inflight: 256 },
  { name: '100 conns × 1 in flight', label: '100 conns × 1', clients: 100, inflight: 1 },
  { name: '1,000 conns × 1 in flight', label: '1000 conns × 1', clients: 1000, inflight: 1, goClientOnly: true },
];

export const callsSection: Section = {
  name: 'calls',
  async run(bench: Bench) {
    const { say, options } = bench;
    const [rawCmd, rawArgs] = node('raw-echo.ts', ['--serve']);
    const [grpcCmd, grpcArgs] = node('grpc-bench.ts', ['--serve']);
    const servers: Record<ServerName, ServerProcess> = {
      raw: await bench.startServer(rawCmd, rawArgs),
      ts: await bench.tsServer(),
      go: await bench.goServer(),
      grpc: await bench.startServer(grpcCmd, grpcArgs),
    };
    const results = new Map<string, Cell>();
    try {
      for (const load of loads) {
        const cols = columns.filter((c) => !load.goClientOnly || c.client === 'go');
        const cells = await interleaved(
          bench,
          cols.map((c) => ({
            key: `${load.name} / ${c.name}`,
            // Under the Go client the server's CPU per call is measured too (the CPU table).
            run: () => bench.runClient(c.client, [servers[c.server].key], load, { args: c.extra, watch: c.client === 'go' ? servers[c.server].pid : undefined }),
          })),
        );
        for (const [k, v] of cells) results.set(k, v);
      }
    } finally {
      for (const s of Object.values(servers)) s.stop();
    }
    const cell = (load: Load, column: string) => results.get(`${load.name} / ${column}`);

    say(`### Calls: rpcx TS and Go, the Node limit and grpc-js`);
    say();
    say(
      `calls/s, median of ${options.repeat} interleaved runs (min–max), and the median p99 in ms; each run ${options.durationMs} ms after ${options.warmupMs} ms of warm-up, ` +
        'client and server in separate processes, one call = the 581-byte message there and back (Hello.Say). ' +
        'raw: the message as bytes (serialize type 0); protobuf: decoded and encoded on both sides (Go → TS, TS → Go and Go → Go are protobuf). ' +
        'limit: two Node processes echoing 16-byte header + 581-byte frames, seq echoed, writes coalesced per turn, no codec or dispatch. ' +
        'grpc-js 1.14: unary call, the same bytes in and out with identity serializers.',
    );
    say();
    say(`| load | ${columns.map((c) => c.name).join(' | ')} |`);
    say(`|---|${columns.map(() => '---:').join('|')}|`);
    for (const load of loads) {
      const row = columns.map((c) => {
        const r = cell(load, c.name);
        return r ? `${spread(r)}, p99 ${ms(r.p99us)}` : '—';
      });
      say(`| ${load.name} | ${row.join(' | ')} |`);
    }
    say();
    say('Ratios of the medians above (the goals of issue 15 in brackets):');
    say();
    say('| load | TS ↔ TS raw ÷ limit (≥ 0.5) | TS ↔ TS raw ÷ grpc-js (≥ 10) | Go → TS ÷ Go → Go (≥ 1.0) | TS → TS ÷ Go → Go | TS → Go ÷ Go → Go | p99 Go → TS ÷ Go → Go (≤ 1.5) | p99 TS → TS ÷ Go → Go (≤ 1.5) |');
    say('|---|---:|---:|---:|---:|---:|---:|---:|');
    const rate = (load: Load, column: string) => cell(load, column)?.median;
    const p99 = (load: Load, column: string) => cell(load, column)?.p99us;
    for (const load of loads) {
      say(
        `| ${load.name} | ${ratio(rate(load, 'TS → TS raw'), rate(load, 'limit: raw Node echo'))} | ${ratio(rate(load, 'TS → TS raw'), rate(load, 'grpc-js'))} | ` +
          `${ratio(rate(load, 'Go → TS'), rate(load, 'Go → Go'))} | ${ratio(rate(load, 'TS → TS protobuf'), rate(load, 'Go → Go'))} | ${ratio(rate(load, 'TS → Go'), rate(load, 'Go → Go'))} | ` +
          `${ratio(p99(load, 'Go → TS'), p99(load, 'Go → Go'))} | ${ratio(p99(load, 'TS → TS protobuf'), p99(load, 'Go → Go'))} |`,
      );
    }
    say();
    say('![calls/s by load](throughput.svg)');
    say();
    say(
      'Server CPU per call under the same Go client, µs: the server process\'s CPU time (every thread, user + system, kernel included) at the rate ' +
        'measured over the middle 80 % of each run, divided by its calls/s; median of the runs above. This is what a call costs the server, ' +
        'whatever share of the cores it got: on this machine the client and the server share the cores, and a TS server runs JavaScript on one thread.',
    );
    say();
    say('| load | TS server | Go server | TS ÷ Go |');
    say('|---|---:|---:|---:|');
    const cpu = (load: Load, column: string) => cell(load, column)?.serverCpuUsPerCall;
    const us = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(1));
    for (const load of loads) say(`| ${load.name} | ${us(cpu(load, 'Go → TS'))} | ${us(cpu(load, 'Go → Go'))} | ${ratio(cpu(load, 'Go → TS'), cpu(load, 'Go → Go'))} |`);

    const series = [
      { name: 'limit: raw Node echo', color: '#888888', dashed: true },
      { name: 'TS → TS raw', color: '#1f77b4' },
      { name: 'TS → TS protobuf', color: '#6baed6' },
      { name: 'Go → TS', color: '#2ca02c' },
      { name: 'Go → Go', color: '#d62728' },
      { name: 'grpc-js', color: '#9467bd' },
    ];
    bench.files.set(
      'throughput.svg',
      lineChart(
        'rpcx calls/s by load (median), TS / Go / limit / grpc-js',
        loads.map((l) => l.label),
        series.map((s) => ({ ...s, values: loads.map((l) => rate(l, s.name)) })),
      ),
    );
  },
};
