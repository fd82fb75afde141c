// Encode + decode of one 581-byte frame (the size of Go rpcx's benchmark message frame),
// in ns per frame. Run: npx tsx packages/protocol/bench/frame.bench.ts
import { FrameDecoder, Message, encodeMessage } from '../src/index.js';

const payload = new Uint8Array(581 - 16 - 4 - 'Hello'.length - 4 - 'Say'.length - 4 - 4);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
const message = new Message({ servicePath: 'Hello', serviceMethod: 'Say', serializeType: 3, seq: 1, payload });
const frameLength = encodeMessage(message).length;
if (frameLength !== 581) throw new Error(`frame is ${frameLength} bytes, not 581`);

const decoder = new FrameDecoder();
let sink = 0;
function round(n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    message.seq = i;
    decoder.push(encodeMessage(message), (m) => (sink += m.payload.length));
  }
  return Number(process.hrtime.bigint() - start) / n;
}

round(200_000); // warm-up
const runs: number[] = [];
for (let r = 0; r < 7; r++) runs.push(round(500_000));
runs.sort((a, b) => a - b);
console.log(`encode+decode 581-byte frame: median ${runs[3].toFixed(1)} ns/frame (min ${runs[0].toFixed(1)}, max ${runs[6].toFixed(1)}); sink ${sink}`);
