// @rpcx/gateway (the standalone rpcx-gateway) in front of Go rpcx and TS servers: HTTP calls
// with msgpack and JSON bodies, rpcx-gateway's response headers and error answers (the same
// from a Go and a TS backend), agent mode, and Failover while servers die mid-series.
import http from 'node:http';
import { FailMode } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { tcpTransport } from '@rpcx/transport-tcp';
import { multipleServers, peer2peer } from '@rpcx/xclient';
import { createGateway, type Gateway } from '@rpcx/gateway';
import { startGoServer, type GoServer } from './support/go-peer.js';
import { allCodecs, startTsServer } from './support/services.js';

const mp = msgpackCodec();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP request over a fresh loopback connection, bounded by 10 s. */
function request(port: number, path: string, headers: Record<string, string>, body?: Uint8Array, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP ${path} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

const mul = (port: number, a: number, b: number, serializeType = 3, extra: Record<string, string> = {}) => {
  const body = serializeType === 3 ? mp.encode({ A: a, B: b }) : Buffer.from(JSON.stringify({ A: a, B: b }));
  return request(port, '/', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': String(serializeType), ...extra }, body);
};

/** The headers rpcx-gateway sets (its own and the reply's metadata), without Node's Date / Connection. */
function rpcxHeaders(a: Answer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a.headers)) if (!['date', 'connection', 'keep-alive'].includes(k)) out[k] = String(v);
  return out;
}

describe('@rpcx/gateway with one backend each (Go, TS): same answers', () => {
  let go: GoServer;
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  const gateways: Record<'go' | 'ts', { gw: Gateway; port: number }> = {} as never;

  beforeAll(async () => {
    [go, ts] = await Promise.all([startGoServer(), startTsServer()]);
    for (const [name, key] of [['go', go.key], ['ts', ts.key]] as const) {
      const gw = createGateway({ discovery: () => peer2peer(key), transports: [tcpTransport()], codecs: allCodecs() });
      const { port } = await gw.listen('127.0.0.1', 0);
      gateways[name] = { gw, port };
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(gateways).map((g) => g.gw.close()));
    await Promise.all([go?.stop(), ts?.server.close()]);
  });

  test.each(['go', 'ts'] as const)('%s: Arith.Mul with msgpack and JSON bodies', async (name) => {
    const { port } = gateways[name];
    const a = await mul(port, 6, 7, 3, { 'X-RPCX-MessageID': '12345', 'X-RPCX-MesssageType': '0' });
    expect(a.status).toBe(200);
    expect(rpcxHeaders(a)).toEqual({ 'x-rpcx-messageid': '12345', 'content-type': 'application/octet-stream', 'content-length': String(a.body.length) });
    expect(mp.decode(a.body)).toEqual({ C: 42 });

    // Service path from the URL path, JSON body.
    const j = await request(port, '/Arith', { 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '1' }, Buffer.from('{"A":10,"B":20}'));
    expect(j.status).toBe(200);
    expect(j.headers['x-rpcx-messagestatustype']).toBeUndefined();
    expect(JSON.parse(j.body.toString())).toEqual({ C: 200 });
  });

  test('reply metadata comes back as headers (Go SendRaw returns the reply metadata map)', async () => {
    const answers = await Promise.all(
      (['go', 'ts'] as const).map((name) =>
        request(gateways[name].port, '/Arith', { 'X-RPCX-ServiceMethod': 'Meta', 'X-RPCX-SerializeType': '1', 'X-RPCX-Meta': 'a=1&b=x+y' }, Buffer.from('{"A":1,"B":1}')),
      ),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.headers['echo-a']).toBe('1');
      expect(a.headers['echo-b']).toBe('x y');
      expect(JSON.parse(a.body.toString())).toEqual({ C: 2 });
    }
    expect(rpcxHeaders(answers[0])).toEqual(rpcxHeaders(answers[1]));
  });

  test.each<[string, Record<string, string>, string]>([
    ['unknown service', { 'X-RPCX-ServicePath': 'Nope', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '3' }, "rpcx: can't find service Nope"],
    ['unknown method', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Nope', 'X-RPCX-SerializeType': '3' }, "rpcx: can't find method Nope"],
    ['service error', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Error', 'X-RPCX-SerializeType': '3' }, 'boom 7'],
    ['no serialize type', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul' }, 'empty serialized type'],
    ['no method', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-SerializeType': '3' }, 'empty servicemethod'],
    ['no service path', { 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '3' }, 'empty servicepath'],
    ['bad message id', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': '3', 'X-RPCX-MessageID': 'x' }, 'strconv.ParseUint: parsing "x": invalid syntax'],
    ['bad serialize type', { 'X-RPCX-ServicePath': 'Arith', 'X-RPCX-ServiceMethod': 'Mul', 'X-RPCX-SerializeType': 'msgpack' }, 'strconv.Atoi: parsing "msgpack": invalid syntax'],
  ])('%s: 200 with X-RPCX-MessageStatusType Error, the text as header and body (rpcx-gateway)', async (_case, headers, text) => {
    const answers = await Promise.all((['go', 'ts'] as const).map((name) => request(gateways[name].port, '/', headers, mp.encode({ A: 7, B: 1 }))));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(rpcxHeaders(a)).toEqual({
        'x-rpcx-messagestatustype': 'Error',
        'x-rpcx-errormessage': text,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': String(Buffer.byteLength(text)),
        ...(headers['X-RPCX-MessageID'] ? { 'x-rpcx-messageid': headers['X-RPCX-MessageID'] } : {}),
      });
      expect(a.body.toString()).toBe(text);
    }
  });

  test('methods other than GET, POST, PUT: httprouter answers', async () => {
    const { port } = gateways.ts;
    const del = await request(port, '/Arith', {}, undefined, 'DELETE');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET, OPTIONS, POST, PUT');
    expect(del.body.toString()).toBe('Method Not Allowed\n');
    const opt = await request(port, '/Arith', {}, undefined, 'OPTIONS');
    expect(opt.status).toBe(200);
    expect(opt.headers.allow).toBe('GET, OPTIONS, POST, PUT');
  });

  test('one XClient per service path, created on first use', () => {
    expect([...gateways.ts.gw.clients.keys()].sort()).toEqual(['Arith', 'Nope']);
  });
});

test('agent mode: loopback only', async () => {
  const ts = await startTsServer();
  const gw = createGateway({ mode: 'agent', discovery: () => peer2peer(ts.key), transports: [tcpTransport()] });
  try {
    await expect(gw.listen('0.0.0.0', 0)).rejects.toThrow('agent mode listens on loopback only');
    const { host, port } = await gw.listen(undefined, 0);
    expect(host).toBe('127.0.0.1');
    const a = await mul(port, 3, 5);
    expect(a.status).toBe(200);
    expect(mp.decode(a.body)).toEqual({ C: 15 });
  } finally {
    await gw.close();
    await ts.server.close();
  }
});

test('Failover: every HTTP call succeeds while the Go server is SIGKILLed and a TS server closed', async () => {
  const ts = await Promise.all([startTsServer(), startTsServer()]);
  const go = await startGoServer();
  const keys = [go.key, ...ts.map((s) => s.key)];
  const gw = createGateway({
    discovery: () => multipleServers(keys.map((key) => ({ key, value: '' }))),
    transports: [tcpTransport()],
    failMode: FailMode.Failover,
  });
  const { port } = await gw.listen('127.0.0.1', 0);
  const disconnected = new Set<string>();
  try {
    // Warm up: round robin over three servers, so each is connected and has answered.
    for (let i = 0; i < 6; i++) {
      const a = await mul(port, i, 3, i % 2 ? 1 : 3);
      expect(a.status).toBe(200);
    }
    gw.clients.get('Arith')!.on('disconnect', (server) => disconnected.add(server));

    const failures: string[] = [];
    const phase = { go: 0, ts: 0, after: 0 };
    let stage: keyof typeof phase = 'go';
    let running = true;
    let n = 0;
    const worker = async () => {
      while (running) {
        const i = n++;
        const json = i % 2 === 1;
        try {
          const a = await mul(port, i, 2, json ? 1 : 3);
          const good = a.status === 200 && a.headers['x-rpcx-messagestatustype'] === undefined;
          const reply = good ? ((json ? JSON.parse(a.body.toString()) : mp.decode(a.body)) as { C: number }) : undefined;
          if (reply?.C !== i * 2) {
            failures.push(`${i}: ${a.status} ${a.headers['x-rpcx-errormessage'] ?? ''} ${a.body.toString()}`);
          } else {
            phase[stage]++;
          }
        } catch (err) {
          failures.push(`${i}: ${(err as Error).message}`);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await sleep(300);
    go.process.kill('SIGKILL');
    await go.stop();
    stage = 'ts';
    await sleep(300);
    await ts[0].server.close();
    stage = 'after';
    await sleep(500);
    running = false;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect(phase.go).toBeGreaterThan(0);
    expect(phase.ts).toBeGreaterThan(0);
    expect(phase.after).toBeGreaterThan(0);
    // The gateway really was connected to both servers that went away.
    expect(disconnected).toEqual(new Set([go.key, ts[0].key]));
    // Only the survivor is left: calls still answer.
    const last = await mul(port, 9, 9);
    expect(mp.decode(last.body)).toEqual({ C: 81 });
  } finally {
    await gw.close();
    await Promise.all([go.stop(), ...ts.map((s) => s.server.close())]);
  }
});
