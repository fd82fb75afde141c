// JSON-RPC 2.0 on the rpcx port, over real TCP: what the answer looks like, notifications,
// hooks and auth, and the places where this server does the right thing where Go rpcx fails.
// The comparison with a real Go server is interop/test/gateway-parity.test.ts.
import { jsonCodec } from '@rpcx/codec-json';
import type { RequestContext } from '@rpcx/core';
import { jsonRpcHeaders, request, serve } from './gateway-http.js';
import { compactJson, decodeJsonRpcRequest, jsonSyntaxError, quoteJson } from '../src/go-json.js';

const call = (port: number, body: string, headers: Record<string, string> = {}) =>
  request(port, { headers: { ...jsonRpcHeaders, ...headers }, body: Buffer.from(body) });

describe('JSON-RPC 2.0', () => {
  test('result, error shapes, ids and codes', async () => {
    const { server, port } = await serve();
    try {
      const ok = await call(port, '{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":6,"B":7},"id":"q1"}');
      expect([ok.status, ok.headers['content-type'], ok.text]).toEqual([200, 'application/json', '{"jsonrpc":"2.0","result":{"C":42},"id":"q1"}']);
      const failed = await call(port, '{"jsonrpc":"2.0","method":"Arith.Fail","params":{"A":3},"id":7}');
      expect(failed.text).toBe('{"jsonrpc":"2.0","error":{"code":-32603,"message":"boom 3","data":null},"id":7}');
      const noDot = await call(port, '{"jsonrpc":"2.0","method":"Mul","params":{},"id":7}');
      expect(noDot.text).toBe('{"jsonrpc":"2.0","error":{"code":-32601,"message":"must contains servicepath and method","data":null},"id":7}');
      const parse = await call(port, '{"jsonrpc":"2.0",');
      expect(parse.text).toBe('{"jsonrpc":"2.0","error":{"code":-32700,"message":"unexpected end of JSON input","data":null}}');
    } finally {
      await server.close();
    }
  });

  test('a notification is answered at once with an empty 200 and still runs', async () => {
    const seen: unknown[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { server, port } = await serve({}, (s) =>
      s.registerFunction('Note', async (a: unknown, ctx: RequestContext) => {
        await gate;
        seen.push([a, ctx.message.oneway]);
        return 'ignored';
      }, { name: 'Take' }),
    );
    try {
      const answer = await call(port, '{"jsonrpc":"2.0","method":"Note.Take","params":[1,2]}');
      expect([answer.status, answer.body.length, answer.headers['content-type']]).toEqual([200, 0, undefined]);
      expect(seen).toEqual([]);
      release();
      for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
      expect(seen).toEqual([[[1, 2], true]]);
    } finally {
      await server.close();
    }
  });

  test('params left out or null reach the method as null (Go crashes on both)', async () => {
    const got: unknown[] = [];
    const { server, port } = await serve({}, (s) => s.registerFunction('P', (a: unknown) => (got.push(a), 'ok'), { name: 'Get' }));
    try {
      expect((await call(port, '{"method":"P.Get","id":1}')).text).toBe('{"jsonrpc":"2.0","result":"ok","id":1}');
      expect((await call(port, '{"method":"P.Get","params":null,"id":2}')).text).toBe('{"jsonrpc":"2.0","result":"ok","id":2}');
      expect(got).toEqual([null, null]);
    } finally {
      await server.close();
    }
  });

  test('the result is compacted and HTML-escaped as Go json.Marshal does to a RawMessage', async () => {
    const { server, port } = await serve({ codecs: [jsonCodec({ escapeHTML: false })] }, (s) =>
      s.registerFunction('Text', () => ({ html: '<b>&</b>', sep: 'a\u2028b' }), { name: 'Get' }),
    );
    try {
      const r = await call(port, '{"method":"Text.Get","params":{},"id":1}');
      expect(r.text).toBe('{"jsonrpc":"2.0","result":{"html":"\\u003cb\\u003e\\u0026\\u003c/b\\u003e","sep":"a\\u2028b"},"id":1}');
    } finally {
      await server.close();
    }
  });

  test('a reply that is not JSON is a 500, as Go json.Marshal fails on it', async () => {
    const broken = { serializeType: 1, name: 'broken', encode: () => Buffer.from('{"C":'), decode: () => ({}) };
    const { server, port } = await serve({ codecs: [broken] });
    try {
      const r = await call(port, '{"method":"Arith.Mul","params":{},"id":1}');
      expect([r.status, r.text]).toEqual([500, 'json: error calling MarshalJSON for type *json.RawMessage: unexpected end of JSON input\n']);
    } finally {
      await server.close();
    }
  });

  test('metadata, auth, hooks: postReadRequest and auth refusals are -32603, preReadRequest errors ignored', async () => {
    const hooks: string[] = [];
    const { server, port } = await serve(
      {
        auth: (_ctx, token) => {
          if (token !== 'Bearer ok') throw new Error('invalid token');
        },
        plugins: [
          {
            preReadRequest: () => {
              hooks.push('preRead');
              throw new Error('ignored on JSON-RPC');
            },
            postReadRequest: (_c, m) => {
              if (m?.serviceMethod === 'Refused') throw new Error('refused here');
            },
            preWriteResponse: (_ctx, _req, res, err) => void hooks.push(`preWrite ${res ? 'res' : '-'} ${err?.message ?? ''}`.trim()),
          },
        ],
      },
      (s) => s.registerFunction('Meta', (_a: unknown, ctx: RequestContext) => ({ k: ctx.metadata['k'], auth: ctx.metadata['__AUTH'] }), { name: 'Get' }),
    );
    try {
      const denied = await call(port, '{"method":"Meta.Get","params":{},"id":1}');
      expect(denied.text).toBe('{"jsonrpc":"2.0","error":{"code":-32603,"message":"invalid token","data":null},"id":1}');
      const refused = await call(port, '{"method":"Meta.Refused","params":{},"id":2}', { Authorization: 'Bearer ok' });
      expect(refused.text).toBe('{"jsonrpc":"2.0","error":{"code":-32603,"message":"refused here","data":null},"id":2}');
      const ok = await call(port, '{"method":"Meta.Get","params":{},"id":3}', { Authorization: 'Bearer ok', 'X-RPCX-Meta': 'k=v&bad=%zz' });
      expect(ok.text).toBe('{"jsonrpc":"2.0","result":{"k":"v","auth":"Bearer ok"},"id":3}');
      expect(hooks).toEqual(['preRead', 'preWrite - invalid token', 'preRead', 'preRead', 'preWrite res']);
    } finally {
      await server.close();
    }
  });

  test('handlers (addHandler) are reachable too', async () => {
    const { server, port } = await serve({}, (s) => s.addHandler('Raw', 'Sum', (ctx) => ctx.write((ctx.bind() as number[]).reduce((x, y) => x + y, 0))));
    try {
      expect((await call(port, '{"method":"Raw.Sum","params":[1,2,3],"id":1}')).text).toBe('{"jsonrpc":"2.0","result":6,"id":1}');
    } finally {
      await server.close();
    }
  });
});

describe("Go's encoding/json, as far as JSON-RPC shows it", () => {
  test.each([
    ['', 'unexpected end of JSON input'],
    ['   ', 'unexpected end of JSON input'],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{1:2}', "invalid character '1' looking for beginning of object key string"],
    // At the end Go feeds the scanner a space, so a cut literal names that space.
    ['nul', "invalid character ' ' in literal null (expecting 'l')"],
    ['1.', "invalid character ' ' after decimal point in numeric literal"],
    ['[1', 'unexpected end of JSON input'],
    ['nulx', "invalid character 'x' in literal null (expecting 'l')"],
    ['"\\q"', "invalid character 'q' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['01', "invalid character '1' after top-level value"],
    ['-', "invalid character ' ' in numeric literal"],
    ['-a', "invalid character 'a' in numeric literal"],
    ['\x00', "invalid character '\\x00' looking for beginning of value"],
    ['\u00e9', "invalid character 'Ã' looking for beginning of value"],
    ["'", "invalid character '\\'' looking for beginning of value"],
    ['[' .repeat(10001), "invalid character '[' exceeded max depth"],
    ['{"a":[1,{"b":null}],"c":"\\u00e9"}', undefined],
  ])('syntax of %j', (text, error) => {
    expect(jsonSyntaxError(Buffer.from(text, 'utf8'))).toBe(error);
  });

  test('decoding into jsonrpcRequest', () => {
    const d = (s: string) => decodeJsonRpcRequest(Buffer.from(s));
    expect(d('{"method":"A.B","params": [1, 2] ,"id":-0}')).toEqual({ method: 'A.B', params: Buffer.from('[1, 2]'), id: { number: '0' } });
    expect(d('{"method":"A.B","method":"C.D","id":"\\u0041"}')).toEqual({ method: 'C.D', params: undefined, id: { name: 'A' } });
    expect(() => d('{"method":1,"jsonrpc":"1.0"}')).toThrow('invalid RPC version 1.0');
    expect(() => d('{"method":1,"id":2}')).toThrow('json: cannot unmarshal number into Go struct field jsonrpcRequest.method of type string');
    expect(() => d('{"id":{}}')).toThrow('json: cannot unmarshal object into Go struct field jsonrpcRequest.id of type string');
    expect(() => d('true')).toThrow('json: cannot unmarshal bool into Go value of type server.jsonrpcRequest');
  });

  test('quoting and compacting', () => {
    expect(quoteJson('a"\\\n\r\t\b\f\x01<>&\u2028\u2029\ud800é😀')).toBe('"a\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u003c\\u003e\\u0026\\u2028\\u2029\\ufffdé😀"');
    expect(compactJson(Buffer.from(' { "a" : [ 1 , "x y" ] } ')).toString()).toBe('{"a":[1,"x y"]}');
    expect(compactJson(Buffer.from('{"a":"\\"<"}')).toString()).toBe('{"a":"\\"\\u003c"}');
  });
});
