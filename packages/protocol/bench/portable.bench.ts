// The same 581-byte frame through the portable (browser) byte path: Node's Buffer is hidden
// before @rpcx/protocol loads, so it takes Uint8Array / TextEncoder / TextDecoder.
// Run: npx tsx packages/protocol/bench/portable.bench.ts
const saved = (globalThis as { Buffer?: unknown }).Buffer;
(globalThis as { Buffer?: unknown }).Buffer = undefined;
const { FrameDecoder, Message, encodeMessage } = await import('../src/index.js');
(globalThis as { Buffer?: unknown }).Buffer = saved;

const payload = new Uint8Array(581 - 16 - 4 - 5 - 4 - 3 - 4 - 4);
const message = new Message({ servicePath: 'Hello', serviceMethod: 'Say', serializeType: 3, seq: 1, payload });
const decoder = new FrameDecoder();
let sink = 0;
const round = (n: number) => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    message.seq = i;
    decoder.push(encodeMessage(message), (m) => (sink += m.payload.length));
  }
  return Number(process.hrtime.bigint() - start) / n;
};
round(200_000);
const runs = Array.from({ length: 7 }, () => round(200_000)).sort((a, b) => a - b);
console.log(`portable path: encode+decode 581-byte frame: median ${runs[3].toFixed(0)} ns/frame (isBuffer: ${saved !== undefined && (saved as { isBuffer(x: unknown): boolean }).isBuffer(encodeMessage(message))}); sink ${sink > 0}`);
