// Decode speed of the msgpack codec on payloads the size of real calls, in ns per decode.
// Run: npx tsx packages/codec-msgpack/bench/decode.bench.ts
import { msgpackCodec } from '../src/index.js';

const codec = msgpackCodec();
const record = (i: number) => ({ UID: i, AddTime: 14990093, UserType: 2, Uface: 'http://image.xxxx.xxx/t.gif', UserName: 'Joke' });
const cases: Array<[string, Uint8Array]> = [
  ['Arith args {A,B}', codec.encode({ A: 10, B: 20 })],
  ['member reply', codec.encode(record(1))],
  ['reply with an int64', codec.encode({ UID: 1n << 60n, Name: 'big' })],
  ['1 KiB: 16 records', codec.encode(Array.from({ length: 16 }, (_, i) => record(i)))],
  ['64 KiB: 1000 records', codec.encode(Array.from({ length: 1000 }, (_, i) => record(i)))],
  ['1 MiB: numbers and strings', codec.encode(Array.from({ length: 40_000 }, (_, i) => ({ i, s: `item-${i}`, f: i / 3 })))],
];

let sink = 0;
function round(bytes: Uint8Array, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += (codec.decode(bytes) as object) ? 1 : 0;
  return Number(process.hrtime.bigint() - start) / n;
}

for (const [name, bytes] of cases) {
  // About 50 ms per round whatever the size.
  const n = Math.max(5, Math.round(50_000_000 / (200 + bytes.length * 20)));
  round(bytes, n); // warm-up
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) runs.push(round(bytes, n));
  runs.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} ${String(bytes.length).padStart(8)} B  median ${runs[3].toFixed(0).padStart(9)} ns (min ${runs[0].toFixed(0)}, max ${runs[6].toFixed(0)})`);
}
console.log(`sink ${sink}`);
