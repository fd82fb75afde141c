// The page the browser test loads. It imports only @rpcx/browser and the msgpack codec, calls
// Arith.Mul over WebSocket and through the HTTP gateway, and leaves the outcome in
// `window.rpcxResult`.
import { connect, gatewayCall, jsonCodec, SerializeType, ServiceError } from '@rpcx/browser';
import { msgpackCodec } from '@rpcx/codec-msgpack';

declare const window: { rpcxResult?: unknown; location: { search: string } };

async function run() {
  const params = new URLSearchParams(window.location.search);
  const ws = params.get('ws')!;
  const gateway = params.get('gateway')!;
  const codec = msgpackCodec();
  const started = performance.now();
  const json = jsonCodec();
  const arith = connect({ url: ws, servicePath: 'Arith', codecs: [codec, json], serializeType: SerializeType.MsgPack });
  try {
    const wsMeta: Record<string, string> = {};
    const wsMul = await arith.call<{ C: number }>('Mul', { A: 6, B: 7 }, { metadata: { ключ: 'значение' }, responseMetadata: wsMeta });
    const wsJson = await arith.call<{ C: number }>('Mul', { A: 5, B: 5 }, { serializeType: SerializeType.JSON });
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => arith.call<{ C: number }>('Mul', { A: i, B: 3 })));
    let wsError = '';
    try {
      await arith.call('Nope', {});
    } catch (error) {
      wsError = `${(error as Error).name}: ${(error as Error).message}`;
    }

    const reply = await gatewayCall(gateway, 'Arith', 'Mul', codec.encode({ A: 9, B: 11 }), {
      serializeType: SerializeType.MsgPack,
      metadata: { trace: 'page' },
    });
    const gatewayMul = codec.decode(reply.payload) as { C: number };
    const jsonReply = await gatewayCall(gateway, 'Arith', 'Mul', JSON.stringify({ A: 3, B: 4 }), { serializeType: SerializeType.JSON });
    const bad = await gatewayCall(gateway, 'Arith', 'Nope', codec.encode({}), { serializeType: SerializeType.MsgPack });
    return {
      ok: true,
      wsMul,
      wsJson,
      wsEcho: wsMeta['echo-ключ'],
      manyOk: many.every((r, i) => r.C === i * 3),
      wsError,
      gatewayMul,
      gatewayJson: json.decode(jsonReply.payload),
      // The bytes @rpcx/codec-json writes on Node, as Go writes them: HTML-escaped, []byte as base64.
      jsonBytes: new TextDecoder().decode(json.encode({ S: '<&>', B: new Uint8Array([1, 2, 3]), N: 2n ** 64n })),
      gatewayMeta: { ...reply.metadata },
      gatewayError: bad.error instanceof ServiceError ? bad.error.message : `not a ServiceError: ${String(bad.error)}`,
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await arith.close();
  }
}

run().then(
  (result) => (window.rpcxResult = result),
  (error: Error) => (window.rpcxResult = { ok: false, error: `${error.name}: ${error.message}\n${error.stack}` }),
);
