/**
 * `pnpm fuzz [--seed N] [--connections N] [--frames N] [--concurrency N]`: the wire fuzz of
 * `pnpm test`, much longer (by default 600,000 mutated frames over 20,000 connections), against
 * a server in its own process. Prints progress, the server's memory and the seed; exits 1 on a
 * failure, with the seed to replay it.
 */
import { parseArgs } from 'node:util';
import { spawnServer } from './child.js';
import { describeFailure, runWireFuzz } from './fuzz.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    connections: { type: 'string', default: '20000' },
    frames: { type: 'string', default: '30' },
    concurrency: { type: 'string', default: '64' },
    'close-within-ms': { type: 'string', default: '10000' },
  },
});
const seed = values.seed === undefined ? (Math.random() * 0x1_0000_0000) >>> 0 : Number(values.seed) >>> 0;
const options = {
  seed,
  connections: Number(values.connections),
  framesPerConnection: Number(values.frames),
  concurrency: Number(values.concurrency),
  closeWithinMs: Number(values['close-within-ms']),
};
const mb = (n: number) => `${(n / 1e6).toFixed(0)} MB`;

console.log(`wire fuzz: seed ${seed}, ${options.connections} connections × ${options.framesPerConnection} frames, ${options.concurrency} at once`);
const server = await spawnServer();
const started = performance.now();
const report = await runWireFuzz(server.port, server.key, { ...options, log: (line) => console.log(`${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s  ${line}`) });
const seconds = (performance.now() - started) / 1000;
let failure = describeFailure(report);
if (server.exited !== undefined) failure = `wire fuzz seed ${seed}: the server process exited (${server.exited}). ${failure ?? ''}`;
else {
  const memory = await server.memory();
  console.log(`server memory after the run: rss ${mb(memory.rss)}, heap ${mb(memory.heapUsed)} of ${mb(memory.heapTotal)}`);
}
await server.stop();
console.log(
  `${report.frames} frames over ${report.connections} connections in ${seconds.toFixed(0)} s; ${report.replies} replies; ${report.inStep} connections in step at the end; ` +
    `well-behaved client: ${report.wellBehaved.calls} calls, slowest ${report.wellBehaved.slowestMs.toFixed(0)} ms`,
);
if (failure) {
  console.error(failure);
  process.exit(1);
}
console.log(`seed ${seed}: no failure`);
