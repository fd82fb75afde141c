// The page the browser test loads: our XClient over the browser WebSocket client calls a
// TypeScript rpcx server, and the outcome is left in `window.rpcxResult`.
import { browserWsTransport } from '@rpcx/transport-ws/browser';
import { SerializeType } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { XClient, peer2peer } from '@rpcx/xclient';

declare const window: { rpcxResult?: unknown; location: { search: string } };

async function run() {
  const server = new URLSearchParams(window.location.search).get('server')!;
  const started = performance.now();
  const arith = new XClient({ servicePath: 'Arith', discovery: peer2peer(server), transports: [browserWsTransport()], codecs: [msgpackCodec()] });
  const echo = new XClient({
    servicePath: 'Echo',
    discovery: peer2peer(server),
    transports: [browserWsTransport()],
    serializeType: SerializeType.None,
  });
  try {
    const mul = await arith.call('Mul', { A: 6, B: 7 });
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => arith.call<{ C: number }>('Mul', { A: i, B: 3 })));
    const big = new Uint8Array(256 * 1024).map((_, i) => (i * 7) & 0xff);
    const back = await echo.call<Uint8Array>('Echo', big);
    const echoOk = back.length === big.length && back.every((b, i) => b === big[i]);
    return { ok: true, mul, manyOk: many.every((r, i) => r.C === i * 3), echoOk, ms: Math.round(performance.now() - started) };
  } finally {
    await Promise.all([arith.close(), echo.close()]);
  }
}

run().then(
  (result) => (window.rpcxResult = result),
  (error: Error) => (window.rpcxResult = { ok: false, error: `${error.name}: ${error.message}\n${error.stack}` }),
);
