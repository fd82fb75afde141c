// What the xclient's governance stack costs: Failfast + random against Failover + weighted
// round robin + breaker, the TS client calling both servers.
import { interleaved, ms, ratio, spread, type Section } from '../harness.js';

export const governanceSection: Section = {
  name: 'governance',
  async run(bench) {
    const { say, options } = bench;
    const [ts, go] = await Promise.all([bench.tsServer(), bench.goServer()]);
    const both = [ts.key, go.key];
    const load = { clients: 1, inflight: 16 };
    let cells;
    try {
      cells = await interleaved(bench, [
        { key: 'plain', run: () => bench.runClient('ts', both, load) },
        { key: 'governed', run: () => bench.runClient('ts', both, load, { args: ['--governance'] }) },
      ]);
    } finally {
      ts.stop();
      go.stop();
    }
    const plain = cells.get('plain')!;
    const governed = cells.get('governed')!;
    say(`### Governance overhead`);
    say();
    say(`TS client (protobuf) over both servers above, 1 connection to each, 16 in flight; median of ${options.repeat} interleaved runs (min–max):`);
    say();
    say('| client stack | calls/s | p50 ms | p99 ms | ratio |');
    say('|---|---:|---:|---:|---:|');
    say(`| Failfast + random | ${spread(plain)} | ${ms(plain.p50us)} | ${ms(plain.p99us)} | 1.00 |`);
    say(`| Failover + weighted round robin + breaker | ${spread(governed)} | ${ms(governed.p50us)} | ${ms(governed.p99us)} | ${ratio(governed.median, plain.median)} |`);
  },
};
