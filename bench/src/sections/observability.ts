// What tracing, metrics and rate limits cost: the same TS → TS load with each stack on both
// sides (ts-client.ts / ts-server.ts `--observe`, built in observe.ts), against the plain stack.
import { interleaved, ms, ratio, spread, type Section, type ServerProcess } from '../harness.js';

/** `parts` as observe.ts reads them; undefined = the plain stack. */
const STACKS = [
  { key: 'plain', name: 'plain', parts: undefined },
  { key: 'sdk', name: 'OpenTelemetry SDK set up, no plugin', parts: 'sdk' },
  { key: 'prometheus', name: 'Prometheus (@rpcx/plugin-prometheus)', parts: 'prometheus' },
  { key: 'tracing', name: 'tracing', parts: 'tracing' },
  { key: 'tracing-metrics', name: 'tracing + OpenTelemetry rpc.* metrics', parts: 'tracing,otel-metrics' },
  { key: 'limits', name: 'rate limits (@rpcx/plugin-limits, never reached)', parts: 'ratelimit' },
  { key: 'all', name: '**tracing + Prometheus + rate limits**', parts: 'tracing,prometheus,ratelimit' },
  { key: 'all-sampled', name: 'tracing sampled 1 in 10 + Prometheus + rate limits', parts: 'tracing,sampled-10%,prometheus,ratelimit' },
] as const;

export const observabilitySection: Section = {
  name: 'observability',
  async run(bench) {
    const { say, options } = bench;
    const load = { clients: 1, inflight: 16 };
    const servers: ServerProcess[] = [];
    let cells;
    try {
      servers.push(...(await Promise.all(STACKS.map((s) => bench.tsServer('tcp', s.parts ? ['--observe', s.parts] : [])))));
      cells = await interleaved(
        bench,
        STACKS.map((s, i) => ({ key: s.key, run: () => bench.runClient('ts', [servers[i].key], load, { args: s.parts ? ['--observe', s.parts] : [] }) })),
      );
    } finally {
      for (const s of servers) s.stop();
    }
    const plain = cells.get('plain')!;
    say('### Observability overhead');
    say();
    say(
      `TS → TS over tcp, 1 connection, 16 in flight, protobuf, the same stack on client and server; tracing = @rpcx/plugin-otel on the OpenTelemetry SDK, every span sampled and batched to an exporter that drops it; median of ${options.repeat} interleaved runs (min–max). Goal for the bold row: ≥ 0.85.`,
    );
    say();
    say('| stack | calls/s | p50 ms | p99 ms | ratio |');
    say('|---|---:|---:|---:|---:|');
    for (const s of STACKS) {
      const c = cells.get(s.key)!;
      say(`| ${s.name} | ${spread(c)} | ${ms(c.p50us)} | ${ms(c.p99us)} | ${ratio(c.median, plain.median)} |`);
    }
  },
};
