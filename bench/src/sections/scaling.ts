// Past one core: the TS server in 1 and 2 processes behind one port (serveCluster) against the
// Go server, under the same Go client load.
import { cpus } from 'node:os';
import { interleaved, ms, node, ratio, spread, type Section } from '../harness.js';

const loads = [
  { name: '100 conns × 1 in flight', clients: 100, inflight: 1 },
  { name: '8 conns × 32 in flight', clients: 8, inflight: 32 },
];

export const scalingSection: Section = {
  name: 'scaling',
  async run(bench) {
    const { say, options } = bench;
    const cluster = (workers: number) => {
      const [cmd, args] = node('ts-cluster-server.ts', ['--workers', String(workers)]);
      return bench.startServer(cmd, args);
    };
    const servers = [
      { name: 'TS, serveCluster 1 worker', server: await cluster(1) },
      { name: 'TS, serveCluster 2 workers', server: await cluster(2) },
      { name: 'Go', server: await bench.goServer() },
    ];
    const rows: string[] = [];
    try {
      for (const load of loads) {
        const cells = await interleaved(
          bench,
          servers.map((s) => ({ key: `${load.name} / ${s.name}`, run: () => bench.runClient('go', [s.server.key], load) })),
        );
        const c = (name: string) => cells.get(`${load.name} / ${name}`)!;
        rows.push(
          `| ${load.name} | ${servers.map((s) => `${spread(c(s.name))}, p99 ${ms(c(s.name).p99us)}`).join(' | ')} | ` +
            `${ratio(c(servers[1].name).median, c(servers[0].name).median)} | ${ratio(c(servers[1].name).median, c('Go').median)} |`,
        );
      }
    } finally {
      for (const s of servers) s.server.stop();
    }
    say('### Scaling past one core');
    say();
    say(
      `Go client → server, protobuf; calls/s, median of ${options.repeat} interleaved runs (min–max), p99 in ms. This machine has ${cpus().length} cores, ` +
        'shared by the client and the server processes: a second worker competes with the client for them.',
    );
    say();
    say(`| load | ${servers.map((s) => s.name).join(' | ')} | 2 workers ÷ 1 | 2 workers ÷ Go |`);
    say(`|---|${servers.map(() => '---:').join('|')}|---:|---:|`);
    for (const r of rows) say(r);
  },
};
