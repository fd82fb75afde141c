// Go client → TypeScript server: the real rpcx client (interop/go) runs every scenario of
// SERVICES.md against our server. The values are asserted here, not only the peer's verdict.
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { allCodecs, startTsServer, userCodec } from './support/services.js';
import { runGoPeer } from './support/go-peer.js';

type Result = Record<string, any>;

describe('Go rpcx client → TS server', () => {
  let ts: Awaited<ReturnType<typeof startTsServer>>;
  let authed: Awaited<ReturnType<typeof startTsServer>>;
  const scenario = (name: string, server = ts, extra: string[] = []) =>
    runGoPeer<Result>(['client', '--addr', server.key, '--scenario', name, ...extra]);

  beforeAll(async () => {
    ts = await startTsServer();
    authed = await startTsServer({
      auth: (_ctx, token) => {
        if (token !== 's3cret') throw new Error('invalid token');
      },
    });
  });
  afterAll(async () => {
    await ts.server.close();
    await authed.server.close();
  });

  test.each(['msgpack', 'json', 'thrift'])('codec %s: Arith.Mul 10×20', async (codec) => {
    const r = await scenario(codec);
    expect(r).toMatchObject({ ok: true, C: 200, pass: true });
  });

  test('protobuf: PB.Mul and the benchmark message echo', async () => {
    expect(await scenario('protobuf')).toMatchObject({ ok: true, C: 200, echoField1: 'OK', echoField2: 100, echoSameRest: true, pass: true });
  });

  test('raw bytes', async () => {
    const r = await scenario('raw');
    expect(r.ok).toBe(true);
    expect(r.hex).toBe(r.sentHex);
  });

  test('gzip both ways on a 200 KB payload', async () => {
    expect(await scenario('gzip')).toMatchObject({ ok: true, length: 204800, sha256Match: true, requestCompressType: 1, responseCompressType: 1 });
  });

  test('request and response metadata', async () => {
    const r = await scenario('metadata');
    expect(r).toMatchObject({ ok: true, C: 2 });
    expect(r.metadata).toMatchObject({ 'echo-a': '1', 'echo-b': 'x y' });
  });

  test('service error text and the reply sent with it', async () => {
    expect(await scenario('service-error')).toMatchObject({ error: 'boom 7', isServiceError: true, C: 7 });
  });

  test('unknown service and method, with Go texts', async () => {
    expect((await scenario('unknown-service')).error).toBe("rpcx: can't find service NoSuchService");
    expect((await scenario('unknown-method')).error).toBe("rpcx: can't find method NoSuchMethod");
  });

  test('oneway', async () => {
    expect(await scenario('oneway')).toMatchObject({ ok: true, C: 11 });
  });

  test('heartbeat echoed as Go does', async () => {
    const r = await scenario('heartbeat');
    expect(r).toMatchObject({ calls: 2, heartbeatEchoBad: 0, replyFlagsHex: 'c030' });
    expect(r.heartbeatsReplied).toBeGreaterThanOrEqual(5);
  });

  test('a connection closed by the idle timeout: the Go client dials again on its next call', async () => {
    let closes = 0;
    const idle = await startTsServer({ idleTimeoutMs: 300, plugins: [{ connClose: () => void closes++ }] });
    try {
      expect(await scenario('idle-reconnect', idle)).toMatchObject({ ok: true, first: 6, second: 20 });
      expect(closes).toBeGreaterThanOrEqual(1);
    } finally {
      await idle.server.close();
    }
  });

  test('auth accepted and refused', async () => {
    expect(await scenario('auth-ok', authed, ['--auth', 's3cret'])).toMatchObject({ ok: true, C: 200 });
    expect((await scenario('auth-refused', authed, ['--auth', 's3cret'])).error).toBe('invalid token');
  });

  test('server push reaches a bidirectional Go client', async () => {
    const r = await scenario('push');
    expect(r).toMatchObject({
      C: 3,
      servicePath: 'Push',
      serviceMethod: 'Hello',
      metadata: { k: 'v' },
      payload: 'push 3',
      oneway: true,
      heartbeat: false,
      serializeType: 0,
      headerHex: '08002000',
    });
  });

  test('a client timeout reaches the server (__ServerTimeout)', async () => {
    const r = await scenario('timeout');
    expect(r.lastSlow).toBe(1);
    const d = await scenario('deadline');
    expect(d.C).toBeGreaterThan(4000);
    expect(d.C).toBeLessThanOrEqual(5000);
  });

  test('1000 concurrent calls on one connection', async () => {
    expect(await scenario('concurrency')).toMatchObject({ correct: 1000, connections: 1 });
  });

  test('64-bit integers beyond 2^53 survive msgpack', async () => {
    expect(await scenario('int64')).toMatchObject({ I: '-9007199254740993', U: '18446744073709551615', S: 'wide' });
  });

  test("a codec of the application's own at serialize type 5: the Go client and ours call the same server", async () => {
    const decoded: string[] = [];
    const withCodec = await startTsServer({ codecs: [...allCodecs(), userCodec(decoded)] });
    const client = new XClient({
      servicePath: 'Arith',
      discovery: peer2peer(withCodec.key),
      transports: [tcpTransport()],
      codecs: [userCodec()],
      serializeType: 5,
    });
    try {
      expect(await scenario('user-codec', withCodec)).toMatchObject({ ok: true, C: 200 });
      expect(await client.call('Mul', { A: 6, B: 7 })).toEqual({ C: 42 });
      // Both requests reached the server in the codec's own bytes: base64 of the JSON args.
      expect(decoded).toEqual([Buffer.from('{"A":10,"B":20}').toString('base64'), Buffer.from('{"A":6,"B":7}').toString('base64')]);
    } finally {
      await client.close();
      await withCodec.server.close();
    }
  });

  test.each(['user', 'user-json'])('the seed member service (%s)', async (name) => {
    const r = await scenario(name);
    expect(r.pass).toBe(true);
    expect(JSON.stringify(r)).toContain('Joke');
    expect(JSON.stringify(r)).toContain('Reply');
  });
});
