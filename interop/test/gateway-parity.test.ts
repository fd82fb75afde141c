// The HTTP gateway and JSON-RPC 2.0 on the rpcx port: the same HTTP request goes to a Go rpcx
// server (interop/go `peer serve`, cmux on its tcp listener) and to ours, and the answers must
// match: status, every header but Date (names in their exact spelling), and body. Where this
// implementation deliberately does what Go gets wrong, each side is asserted on its own.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { allowAllCors, httpGateway } from '@rpcx/server-http';
import { startGoServer, type GoServer } from './support/go-peer.js';
import { startTsServer } from './support/services.js';

interface Req {
  method?: string;
  path?: string;
  /** In the order and spelling sent. */
  headers?: [string, string][];
  body?: string | Uint8Array;
}

interface Answer {
  /** The connection was closed without an answer. */
  closed?: true;
  status?: number;
  /** `name: value` lines, sorted; Date left out. */
  headers?: string[];
  body?: string;
}

/** One request on a fresh connection; binary bodies come back as hex. */
function exchange(port: number, req: Req): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in 5 s for ${JSON.stringify(req)}`)), 5000);
    const r = http.request(
      {
        host: '127.0.0.1',
        port,
        method: req.method ?? 'POST',
        path: req.path ?? '/',
        agent: false,
        headers: [
          ['Host', `127.0.0.1:${port}`],
          ...(req.headers ?? []),
          ...(req.body === undefined ? [] : [['Content-Length', String(Buffer.byteLength(req.body))]]),
        ].flat(),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          const body = Buffer.concat(chunks);
          const text = body.toString('utf8');
          const headers: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            if (res.rawHeaders[i].toLowerCase() !== 'date') headers.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
          }
          resolve({
            status: res.statusCode,
            headers: headers.sort(),
            body: Buffer.from(text, 'utf8').equals(body) ? text : 'hex:' + body.toString('hex'),
          });
        });
      },
    );
    r.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNRESET' || err.message === 'socket hang up') resolve({ closed: true });
      else reject(err);
    });
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

const msgpack = msgpackCodec();
const json = (v: unknown) => JSON.stringify(v);

/** A gateway request as the seed document's httpclient.go builds it (rpcx-gateway header names). */
const gw = (service: string, method: string, serializeType: string, body: string | Uint8Array, extra: [string, string][] = []): Req => ({
  headers: [
    ['X-RPCX-MessageID', '10000'],
    ['X-RPCX-MesssageType', '0'],
    ['X-RPCX-SerializeType', serializeType],
    ['X-RPCX-ServicePath', service],
    ['X-RPCX-ServiceMethod', method],
    ...extra,
  ],
  body,
});

const rpc = (body: string, extra: [string, string][] = []): Req => ({
  headers: [['X-JSONRPC-2.0', 'true'], ['Content-Type', 'application/json'], ...extra],
  body,
});

const mul = json({ A: 10, B: 20 });

/** Requests Go and this server must answer identically. */
const SAME: [string, Req][] = [
  // gateway: success
  ['gateway msgpack Arith.Mul', gw('Arith', 'Mul', '3', msgpack.encode({ A: 10, B: 20 }))],
  ['gateway json Arith.Mul', gw('Arith', 'Mul', '1', mul)],
  ['gateway service path from the URL', { path: '/Arith', headers: [['X-RPCX-SerializeType', '1'], ['X-RPCX-ServiceMethod', 'Mul']], body: mul }],
  ['gateway URL path percent-decoded', { path: '/Ari%74h?x=1', headers: [['X-RPCX-SerializeType', '1'], ['X-RPCX-ServiceMethod', 'Mul']], body: mul }],
  ['gateway header beats the URL path', { path: '/Nope', headers: [['x-rpcx-servicepath', 'Arith'], ['X-RPCX-SERIALIZETYPE', '1'], ['X-Rpcx-Servicemethod', 'Mul']], body: mul }],
  ['gateway GET', { method: 'GET', path: '/Arith', headers: [['X-RPCX-SerializeType', '1'], ['X-RPCX-ServiceMethod', 'Mul']], body: mul }],
  ['gateway PUT', { ...gw('Arith', 'Add', '1', mul), method: 'PUT' }],
  ['gateway metadata echo, sorted and escaped', gw('Arith', 'Meta', '1', mul, [['X-RPCX-Meta', 'b=2&a=1+%26&a=ignored']])],
  ['gateway Authorization becomes __AUTH', gw('Arith', 'Meta', '1', mul, [['Authorization', 'Bearer t0k']])],
  ['gateway X-RPCX-Heartbeat: false still sets the bit (normal call)', gw('Arith', 'Mul', '1', mul, [['X-RPCX-Heartbeat', 'false']])],
  ['gateway oneway', gw('Arith', 'Notify', '1', json({ A: 0, B: 0 }), [['X-RPCX-Oneway', '1']])],
  ['gateway raw bytes, PNG-looking reply is sniffed', gw('Echo', 'Echo', '0', Buffer.from('89504e470d0a1a0a0000', 'hex'))],
  ['gateway serialize type 17 is 1 (low four bits)', gw('Arith', 'Mul', '17', mul)],
  ['gateway X-RPCX-Version echoed', gw('Arith', 'Mul', '1', mul, [['X-RPCX-Version', '5']])],
  // gateway: errors
  ['gateway service error', gw('Arith', 'Error', '1', mul)],
  ['gateway unknown service', gw('Nope', 'Mul', '1', mul)],
  ['gateway unknown method', gw('Arith', 'Nope', '1', mul)],
  ['gateway unknown codec', gw('Arith', 'Mul', '9', mul)],
  ['gateway missing service method', { path: '/Arith', headers: [['X-RPCX-SerializeType', '1']], body: mul }],
  ['gateway missing serialize type', { headers: [['X-RPCX-ServicePath', 'Arith'], ['X-RPCX-ServiceMethod', 'Mul']], body: mul }],
  ['gateway missing service path', { headers: [['X-RPCX-SerializeType', '1'], ['X-RPCX-ServiceMethod', 'Mul']], body: mul }],
  ['gateway bad serialize type', gw('Arith', 'Mul', 'json', mul)],
  ['gateway serialize type out of range', gw('Arith', 'Mul', '99999999999999999999', mul)],
  ['gateway bad message id', { ...gw('Arith', 'Mul', '1', mul), headers: [['X-RPCX-MessageID', '-1'], ['X-RPCX-SerializeType', '1'], ['X-RPCX-ServicePath', 'Arith'], ['X-RPCX-ServiceMethod', 'Mul']] }],
  ['gateway bad metadata escape', gw('Arith', 'Meta', '1', mul, [['X-RPCX-Meta', 'a=%zz']])],
  ['gateway metadata with a semicolon', gw('Arith', 'Meta', '1', mul, [['X-RPCX-Meta', 'a=1;b=2']])],
  ['gateway bad compress type', gw('Arith', 'Mul', '1', mul, [['X-RPCX-CompressType', 'gzip']])],
  ['gateway DELETE is 405', { method: 'DELETE', path: '/Arith' }],
  ['gateway OPTIONS lists the methods', { method: 'OPTIONS', path: '/Arith' }],
  ['first request PATCH: cmux closes the connection', { method: 'PATCH', path: '/Arith' }],
  // JSON-RPC 2.0
  ['jsonrpc success, number id', rpc('{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":3,"B":4},"id":1}')],
  ['jsonrpc success, string id, no version', rpc('{"method":"Arith.Mul","params":{"A":3,"B":4},"id":"a<b>&\\u2028"}')],
  ['jsonrpc success, int64 id and spaced params', rpc('{"method":"Arith.Add","params": { "A" : 3 , "B" : 4 } ,"id":9223372036854775807}')],
  ['jsonrpc field names case-insensitive, empty string id', rpc('{"METHOD":"Arith.Mul","Params":{"A":3,"B":4},"iD":""}')],
  ['jsonrpc msgpack-only service over JSON', rpc('{"jsonrpc":"2.0","method":"ServiceUser.UserInfo","params":{"Uid":999},"id":7}')],
  ['jsonrpc service error', rpc('{"jsonrpc":"2.0","method":"Arith.Error","params":{"A":3,"B":4},"id":2}')],
  ['jsonrpc unknown service', rpc('{"jsonrpc":"2.0","method":"Nope.Mul","params":{},"id":2}')],
  ['jsonrpc unknown method', rpc('{"jsonrpc":"2.0","method":"Arith.Nope","params":{},"id":2}')],
  ['jsonrpc method without a dot', rpc('{"jsonrpc":"2.0","method":"Mul","params":{},"id":"x"}')],
  ['jsonrpc method with a leading dot', rpc('{"jsonrpc":"2.0","method":".Mul","params":{},"id":3}')],
  ['jsonrpc parse error: truncated', rpc('{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":3')],
  ['jsonrpc parse error: bad literal', rpc('{"a":tru}')],
  ['jsonrpc parse error: single quotes', rpc("{'a':1}")],
  ['jsonrpc parse error: trailing comma', rpc('{"a":1,}')],
  ['jsonrpc parse error: after top-level value', rpc('{"method":"Arith.Mul","params":{},"id":1} x')],
  ['jsonrpc parse error: control character in string', rpc('{"method":"A\u0001"}')],
  ['jsonrpc parse error: bad escape', rpc('{"method":"\\x"}')],
  ['jsonrpc parse error: empty body', rpc('')],
  ['jsonrpc wrong version', rpc('{"jsonrpc":"1.0","method":"Arith.Mul","params":{},"id":1}')],
  ['jsonrpc null version', rpc('{"jsonrpc":null,"method":"Arith.Mul","params":{},"id":1}')],
  ['jsonrpc number version', rpc('{"jsonrpc":2,"method":"Arith.Mul","params":{},"id":1}')],
  ['jsonrpc method of the wrong type', rpc('{"jsonrpc":"2.0","method":5,"params":{},"id":1}')],
  ['jsonrpc fractional id', rpc('{"method":"Arith.Mul","params":{"A":1,"B":1},"id":1.5}')],
  ['jsonrpc bool id', rpc('{"method":"Arith.Mul","params":{"A":1,"B":1},"id":true}')],
  ['jsonrpc batch (not supported by Go either)', rpc('[{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":1,"B":1},"id":1}]')],
  ['jsonrpc top-level string', rpc('"Arith.Mul"')],
  ['jsonrpc notification: empty 200', rpc('{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":3,"B":4}}')],
  ['jsonrpc null id is a notification', rpc('{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":3,"B":4},"id":null}')],
  ['jsonrpc notification with a bad method: still empty 200', rpc('{"method":"nodot","params":{}}')],
  ['jsonrpc any HTTP method and path', { ...rpc('{"method":"Arith.Mul","params":{"A":2,"B":2},"id":1}'), method: 'PATCH', path: '/any/where' }],
];

/** Go's JSON-RPC writes `Context-Type: application/json` (sic) and net/http sniffs text/plain. */
const GO_JSONRPC_HEADERS = ['Content-Type: text/plain; charset=utf-8', 'Context-Type: application/json'];
const TS_JSONRPC_HEADERS = ['Content-Type: application/json'];

/** The same answer with the JSON-RPC content headers of the other side, for comparing the rest. */
function asGoJsonRpc(a: Answer): Answer {
  if (!a.headers?.includes(TS_JSONRPC_HEADERS[0])) return a;
  return { ...a, headers: [...a.headers.filter((h) => h !== TS_JSONRPC_HEADERS[0]), ...GO_JSONRPC_HEADERS].sort() };
}

describe('HTTP gateway and JSON-RPC 2.0: TS server answers as Go rpcx does', () => {
  let go: GoServer;
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));
  const both = (req: Req) => Promise.all([exchange(port(go.address), req), exchange(port(ts.address), req)]);

  beforeAll(async () => {
    [go, ts] = await Promise.all([startGoServer(), startTsServer({ http: httpGateway() })]);
  });
  afterAll(async () => {
    await Promise.all([go?.stop(), ts?.server.close()]);
  });

  test.each(SAME)('%s', async (_name, req) => {
    const [fromGo, fromTs] = await both(req);
    // The one deliberate header difference on JSON-RPC answers (see the next test).
    expect(asGoJsonRpc(fromTs)).toEqual(fromGo);
  });

  test('the seed example, ServiceUser.UserInfo in msgpack: same headers, same reply', async () => {
    // The TS test service returns plain numbers, which msgpack writes in the smallest form,
    // where Go writes its int64 / int32 fields at full width: compare the decoded replies.
    const [fromGo, fromTs] = await both(gw('ServiceUser', 'UserInfo', '3', msgpack.encode({ Uid: 999 })));
    const decode = (a: Answer) => msgpack.decode(Buffer.from(a.body!.slice(4), 'hex'));
    const rest = (a: Answer) => ({ ...a, body: undefined, headers: a.headers!.filter((h) => !h.startsWith('Content-Length')) });
    expect(rest(fromTs)).toEqual(rest(fromGo));
    expect(fromGo.status).toBe(200);
    expect(decode(fromTs)).toEqual(decode(fromGo));
    expect(decode(fromGo)).toMatchObject({ UID: 999, AddTime: 14990093, UserType: 2, UserName: 'Joke' });
  });

  test('JSON-RPC content type: Go misspells the header, this server sends application/json', async () => {
    const [fromGo, fromTs] = await both(SAME.find(([n]) => n === 'jsonrpc success, number id')![1]);
    expect(fromGo.headers).toEqual(expect.arrayContaining(GO_JSONRPC_HEADERS));
    expect(fromTs.headers).toContain('Content-Type: application/json');
    expect(fromTs.headers!.some((h) => h.startsWith('Context-Type'))).toBe(false);
  });

  test('notifications run: Arith.Notify over JSON-RPC, then Arith.Notified sums them', async () => {
    for (const A of [5, 6]) await both(rpc(`{"method":"Arith.Notify","params":{"A":${A},"B":0}}`));
    // The notification runs after its empty answer; give it a moment on both sides.
    await new Promise((r) => setTimeout(r, 100));
    const [fromGo, fromTs] = await both(rpc('{"method":"Arith.Notified","params":{"A":0,"B":0},"id":1}'));
    expect(fromGo.body).toBe('{"jsonrpc":"2.0","result":{"C":11},"id":1}');
    expect(asGoJsonRpc(fromTs)).toEqual(fromGo);
  });

  test('gzip body (X-RPCX-CompressType: 1): Go hands it to the codec compressed, this server inflates it', async () => {
    const req = gw('Arith', 'Mul', '1', gzipSync(mul), [['X-RPCX-CompressType', '1']]);
    const [fromGo, fromTs] = await both(req);
    expect(fromGo.status).toBe(500);
    expect(fromGo.headers).toContain('X-Rpcx-Messagestatustype: Error');
    expect(fromGo.headers).toContain('X-Rpcx-Errormessage: invalid character \'\\x1f\' looking for beginning of value');
    expect(fromTs.status).toBe(200);
    expect(fromTs.body).toBe('{"C":200}');
    // The reply itself is never compressed, as in Go.
    expect(fromTs.headers!.some((h) => h.startsWith('X-Rpcx-Compresstype'))).toBe(false);
  });

  test('JSON-RPC without params: Go panics and drops the connection, this server passes null', async () => {
    const [fromGo, fromTs] = await both(rpc('{"jsonrpc":"2.0","method":"Arith.Notified","id":1}'));
    expect(fromGo).toEqual({ closed: true });
    expect(fromTs.status).toBe(200);
    expect(fromTs.body).toBe('{"jsonrpc":"2.0","result":{"C":0},"id":1}');
    // The Go server survives it (net/http recovers the handler's panic).
    const [again] = await both(rpc('{"method":"Arith.Mul","params":{"A":2,"B":3},"id":1}'));
    expect(again.body).toBe('{"jsonrpc":"2.0","result":{"C":6},"id":1}');
  });

  test('JSON-RPC metadata: Go gives the service no metadata maps, this server does', async () => {
    const req = rpc('{"method":"Arith.Meta","params":{"A":1,"B":1},"id":1}', [['X-RPCX-Meta', 'k=v']]);
    const [fromGo, fromTs] = await both(req);
    expect(fromGo.body).toBe('{"jsonrpc":"2.0","error":{"code":-32603,"message":"no response metadata map in context","data":null},"id":1}');
    expect(fromTs.body).toBe('{"jsonrpc":"2.0","result":{"C":1},"id":1}');
  });

  test('a keep-alive connection serves several requests, gateway and JSON-RPC alike', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ask = (headers: Record<string, string>, body: string) =>
        new Promise<{ status: number; body: string; port: number }>((resolve, reject) => {
          const r = http.request({ host: '127.0.0.1', port: port(ts.address), method: 'POST', path: '/', agent, headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (text += c));
            const local = res.socket.localPort!;
            res.on('end', () => resolve({ status: res.statusCode!, body: text, port: local }));
          });
          r.on('error', reject);
          r.end(body);
        });
      const a = await ask({ 'X-RPCX-SerializeType': '1', 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul' }, mul);
      const b = await ask({ 'X-JSONRPC-2.0': 'true' }, '{"method":"Arith.Add","params":{"A":1,"B":2},"id":1}');
      const c = await ask({ 'X-RPCX-SerializeType': '1', 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Add' }, mul);
      expect([a.body, b.body, c.body]).toEqual(['{"C":200}', '{"jsonrpc":"2.0","result":{"C":3},"id":1}', '{"C":30}']);
      expect(new Set([a.port, b.port, c.port]).size).toBe(1);
    } finally {
      agent.destroy();
    }
  });
});

describe('auth, CORS and switched-off protocols: TS server answers as Go rpcx does', () => {
  const servers: { go: GoServer; ts: Awaited<ReturnType<typeof startTsServer>> }[] = [];
  const port = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));
  async function pair(goArgs: string[], tsOptions: Parameters<typeof startTsServer>[0]) {
    const [go, ts] = await Promise.all([startGoServer(goArgs), startTsServer(tsOptions)]);
    servers.push({ go, ts });
    return (req: Req) => Promise.all([exchange(port(go.address), req), exchange(port(ts.address), req)]);
  }
  afterAll(async () => {
    await Promise.all(servers.flatMap(({ go, ts }) => [go.stop(), ts.server.close()]));
  });

  test('auth: 401 with the error headers, JSON-RPC -32603; the right token passes', async () => {
    const both = await pair(['--auth', 's3cret'], {
      http: httpGateway(),
      auth: (_ctx, token) => {
        if (token !== 's3cret') throw new Error('invalid token');
      },
    });
    for (const req of [
      gw('Arith', 'Mul', '1', mul),
      gw('Arith', 'Mul', '1', mul, [['Authorization', 'wrong']]),
      gw('Arith', 'Mul', '1', mul, [['Authorization', 's3cret']]),
      rpc('{"method":"Arith.Mul","params":{"A":2,"B":3},"id":1}'),
      rpc('{"method":"Arith.Mul","params":{"A":2,"B":3},"id":1}', [['Authorization', 's3cret']]),
    ]) {
      const [fromGo, fromTs] = await both(req);
      expect(asGoJsonRpc(fromTs)).toEqual(fromGo);
    }
    const [denied] = await both(gw('Arith', 'Mul', '1', mul));
    expect(denied.status).toBe(401);
  });

  test('CORS (AllowAllCORSOptions): preflight and actual requests', async () => {
    const both = await pair(['--cors'], { http: httpGateway({ cors: allowAllCors() }) });
    const cases: Req[] = [
      {
        method: 'OPTIONS',
        path: '/Arith',
        headers: [
          ['Origin', 'http://app.example'],
          ['Access-Control-Request-Method', 'POST'],
          ['Access-Control-Request-Headers', 'x-rpcx-servicemethod,x-rpcx-serializetype'],
        ],
      },
      { method: 'OPTIONS', path: '/Arith', headers: [['Access-Control-Request-Method', 'POST']] },
      gw('Arith', 'Mul', '1', mul, [['Origin', 'http://app.example']]),
      gw('Arith', 'Mul', '1', mul),
      rpc('{"method":"Arith.Mul","params":{"A":2,"B":3},"id":1}', [['Origin', 'http://app.example']]),
    ];
    for (const req of cases) {
      const [fromGo, fromTs] = await both(req);
      expect(asGoJsonRpc(fromTs)).toEqual(fromGo);
    }
    const [preflight] = await both(cases[0]);
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toContain('Access-Control-Allow-Origin: *');
  });

  test('gateway off: plain HTTP is refused, JSON-RPC still served', async () => {
    const both = await pair(['--disable-gateway'], { http: httpGateway({ gateway: false }) });
    const [plainGo, plainTs] = await both(gw('Arith', 'Mul', '1', mul));
    expect(plainGo).toEqual({ closed: true });
    expect(plainTs).toEqual({ closed: true });
    const [fromGo, fromTs] = await both(rpc('{"method":"Arith.Mul","params":{"A":2,"B":3},"id":1}'));
    expect(fromGo.body).toBe('{"jsonrpc":"2.0","result":{"C":6},"id":1}');
    expect(asGoJsonRpc(fromTs)).toEqual(fromGo);
  });

  test('JSON-RPC off: an X-JSONRPC-2.0 request goes to the gateway', async () => {
    const both = await pair(['--disable-jsonrpc'], { http: httpGateway({ jsonRpc: false }) });
    const [fromGo, fromTs] = await both(rpc('{"method":"Arith.Mul","params":{"A":2,"B":3},"id":1}'));
    expect(fromGo.headers).toContain('X-Rpcx-Errormessage: empty servicepath');
    expect(fromTs).toEqual(fromGo);
  });
});

describe('with curl, the commands of the server README', () => {
  let go: GoServer;
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  beforeAll(async () => {
    [go, ts] = await Promise.all([startGoServer(), startTsServer({ http: httpGateway() })]);
  });
  afterAll(async () => {
    await Promise.all([go?.stop(), ts?.server.close()]);
  });

  /** `curl -si` output with the Date line dropped and the header lines sorted. */
  async function curl(address: string, args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)('curl', ['-si', '--max-time', '5', ...args.map((a) => a.replace('ADDR', address))]);
    const [head, ...rest] = stdout.split('\r\n\r\n');
    const [status, ...lines] = head.split('\r\n');
    return [status, ...lines.filter((l) => !l.startsWith('Date:')).sort(), '', rest.join('\r\n\r\n')].join('\n');
  }

  test.each<[string, string[]]>([
    ['gateway call', ['http://ADDR/Arith', '-H', 'X-RPCX-ServiceMethod: Mul', '-H', 'X-RPCX-SerializeType: 1', '-d', '{"A":10,"B":20}']],
    ['gateway service error', ['http://ADDR/Arith', '-H', 'X-RPCX-ServiceMethod: Error', '-H', 'X-RPCX-SerializeType: 1', '-d', '{"A":10,"B":20}']],
    ['gateway unknown service', ['http://ADDR/Nope', '-H', 'X-RPCX-ServiceMethod: Mul', '-H', 'X-RPCX-SerializeType: 1', '-d', '{}']],
    ['gateway bad input', ['http://ADDR/Arith', '-H', 'X-RPCX-ServiceMethod: Mul', '-H', 'X-RPCX-SerializeType: json', '-d', '{}']],
    ['JSON-RPC call', ['http://ADDR/', '-H', 'X-JSONRPC-2.0: true', '-d', '{"jsonrpc":"2.0","method":"Arith.Mul","params":{"A":10,"B":20},"id":1}']],
    ['JSON-RPC unknown method', ['http://ADDR/', '-H', 'X-JSONRPC-2.0: true', '-d', '{"jsonrpc":"2.0","method":"Mul","params":{},"id":1}']],
  ])('%s', async (_name, args) => {
    const [fromGo, fromTs] = await Promise.all([curl(go.address, args), curl(ts.address, args)]);
    // The JSON-RPC content headers are the one deliberate difference (see above).
    const goLike = fromTs.replace('Content-Type: application/json', 'Content-Type: text/plain; charset=utf-8\nContext-Type: application/json');
    expect(goLike).toEqual(fromGo);
    expect(fromGo).toMatch(/^HTTP\/1\.1 (200|500) /);
  });
});
