import {
  ConnectionError,
  FailMode,
  RateLimitError,
  ServiceError,
  TimeoutError,
  type Codec,
  type RequestContext,
  type ServerPlugin,
  type Startable,
} from '@rpcx/core';
import { Message, encodeMessage } from '@rpcx/protocol';
import { Server } from '@rpcx/server';
import { memoryTransport } from '@rpcx/transport-memory';
import { XClient, peer2peer, type XClientOptions } from '@rpcx/xclient';
import { json } from './json.js';

interface Args {
  A: number;
  B: number;
}
interface Reply {
  C: number;
}

interface ArithService {
  Mul(args: Args): Reply;
  Add(args: Args): Promise<Reply>;
}

class Arith implements ArithService {
  notes: number[] = [];
  lastSignal: AbortSignal | undefined;
  Mul(args: Args): Reply {
    return { C: args.A * args.B };
  }
  async Add(args: Args): Promise<Reply> {
    return { C: args.A + args.B };
  }
  Error(args: Args): Reply {
    throw new Error(`boom ${args.A}`);
  }
  Meta(_args: Args, ctx: RequestContext): Reply {
    for (const k of Object.keys(ctx.metadata)) ctx.responseMetadata[`echo-${k}`] = ctx.metadata[k];
    return { C: Object.keys(ctx.metadata).length };
  }
  Notify(args: Args): void {
    this.notes.push(args.A);
  }
  async Slow(args: Args, ctx: RequestContext): Promise<Reply> {
    this.lastSignal = ctx.signal;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, args.A);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return { C: ctx.signal.aborted ? 1 : 0 };
  }
  async Push(args: Args, ctx: RequestContext): Promise<Reply> {
    await ctx.push('Push', 'Hello', Buffer.from(`push ${args.A}`), { k: 'v' });
    return { C: args.A };
  }
  _hidden(): number {
    return 1;
  }
}

/** Poll for a condition (bounded), so timing tests hold on a loaded machine. */
async function waitUntil(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

let n = 0;
async function setup(serverOptions: ConstructorParameters<typeof Server>[0] = {}, clientOptions: Partial<XClientOptions> = {}) {
  const transport = memoryTransport();
  const server = new Server({ transports: [transport], codecs: [json], ...serverOptions });
  const arith = new Arith();
  await server.register(arith);
  const address = `test-${process.pid}-${++n}`;
  await server.listen('memu', address);
  const client = new XClient({
    servicePath: 'Arith',
    discovery: peer2peer(`memu@${address}`),
    transports: [transport],
    codecs: [json],
    serializeType: 1,
    ...clientOptions,
  });
  return {
    server,
    arith,
    client,
    address,
    transport,
    async stop() {
      await client.close();
      await server.close();
    },
  };
}

describe('calls', () => {
  test('a registered class answers, by method name and through a typed interface', async () => {
    const t = await setup();
    expect(await t.client.call('Mul', { A: 10, B: 20 })).toEqual({ C: 200 });
    const arith = t.client.typed<ArithService>();
    const r: Reply = await arith.Add({ A: 1, B: 2 });
    expect(r).toEqual({ C: 3 });
    expect(t.server.listServices()).toEqual({ Arith: expect.arrayContaining(['Mul', 'Add', 'Error', 'Meta', 'Notify', 'Slow', 'Push']) });
    expect(t.server.listServices().Arith).not.toContain('_hidden');
    await t.stop();
  });

  test('a registered function answers under its service path', async () => {
    const t = await setup();
    async function UserReply(args: { Uid: number }) {
      return { UID: args.Uid, UserName: 'Reply' };
    }
    await t.server.registerFunction('ServiceUserFn', UserReply);
    const fn = new XClient({ servicePath: 'ServiceUserFn', discovery: peer2peer(`memu@${t.address}`), transports: [t.transport], codecs: [json], serializeType: 1 });
    expect(await fn.call('UserReply', { Uid: 888 })).toEqual({ UID: 888, UserName: 'Reply' });
    await fn.close();
    await t.stop();
  });

  test('unknown service and method fail with Go texts', async () => {
    const t = await setup();
    await expect(t.client.call('Nope', {})).rejects.toThrow(new ServiceError("rpcx: can't find method Nope"));
    const other = new XClient({ servicePath: 'Missing', discovery: peer2peer(`memu@${t.address}`), transports: [t.transport], codecs: [json], serializeType: 1 });
    await expect(other.call('X', {})).rejects.toThrow("rpcx: can't find service Missing");
    await other.close();
    // an unregistered codec
    await expect(t.client.call('Mul', { A: 1, B: 1 }, { serializeType: 0 })).rejects.toThrow(/\[\]byte|can not find codec/);
    await t.stop();
  });

  test('a thrown error becomes a ServiceError with its message; later calls go on', async () => {
    const t = await setup();
    const err = await t.client.call('Error', { A: 7, B: 0 }).catch((e: ServiceError) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).message).toBe('boom 7');
    expect((err as ServiceError).code).toBe('RPCX_ERR_SERVICE');
    expect(await t.client.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    await t.stop();
  });

  test('metadata travels both ways and the server address is reported', async () => {
    const t = await setup();
    const responseMetadata: Record<string, string> = {};
    const r = await t.client.call('Meta', { A: 0, B: 0 }, { metadata: { a: '1', b: 'x y' }, responseMetadata });
    expect(r).toEqual({ C: 2 });
    expect(responseMetadata).toEqual({ 'echo-a': '1', 'echo-b': 'x y', __ServerAddress: `memu@${t.address}` });
    await t.stop();
  });

  test('oneway calls get no response and still run', async () => {
    const t = await setup();
    await t.client.oneshot('Notify', { A: 5, B: 0 });
    await t.client.oneshot('Notify', { A: 6, B: 0 });
    await t.client.call('Mul', { A: 1, B: 1 }); // same connection, ordered after the oneways
    expect(t.arith.notes).toEqual([5, 6]);
    await t.stop();
  });

  test('1000 concurrent calls on one connection are matched by seq', async () => {
    const t = await setup();
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => t.client.call<Reply>('Mul', { A: i, B: 3 })));
    expect(replies.every((r, i) => r.C === i * 3)).toBe(true);
    expect(t.server.activeConnections()).toHaveLength(1);
    await t.stop();
  });
});

describe('deadlines and cancellation', () => {
  test('a client timeout reaches the server as __ServerTimeout and aborts ctx.signal', async () => {
    const t = await setup();
    const outcome = await t.client.call('Slow', { A: 5000, B: 0 }, { timeoutMs: 50 }).catch((e) => e);
    // Both sides hold the same 50 ms deadline: either the client gives up first, or the
    // server's aborted method answers just in time (C = 1). Both show the deadline arrived.
    if (outcome instanceof Error) expect(outcome).toBeInstanceOf(TimeoutError);
    else expect(outcome).toEqual({ C: 1 });
    await waitUntil(() => t.arith.lastSignal?.aborted === true);
    expect(t.arith.lastSignal?.aborted).toBe(true);
    await t.stop();
  });

  test('an AbortSignal cancels the call on the client at once', async () => {
    const t = await setup();
    const ac = new AbortController();
    const p = t.client.call('Slow', { A: 200, B: 0 }, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'RPCX_ERR_ABORTED' });
    await t.stop();
  });

  test('losing the connection aborts the method signal and fails the pending call', async () => {
    const t = await setup();
    const p = t.client.call('Slow', { A: 5000, B: 0 }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 20));
    for (const c of t.server.activeConnections()) c.destroy();
    const err = await p;
    expect(err).toBeInstanceOf(ConnectionError);
    await new Promise((r) => setTimeout(r, 10));
    expect(t.arith.lastSignal?.aborted).toBe(true);
    await t.stop();
  });
});

describe('auth, heartbeat and push', () => {
  test('auth accepts the right token; a wrong one is refused and the connection closed', async () => {
    const auth = (_ctx: RequestContext, token: string | undefined) => {
      if (token !== 'secret') throw new Error('invalid token');
    };
    const ok = await setup({ auth }, { auth: 'secret' });
    expect(await ok.client.call('Mul', { A: 2, B: 2 })).toEqual({ C: 4 });
    await ok.stop();

    const bad = await setup({ auth }, { auth: 'wrong' });
    const disconnected = new Promise((r) => bad.client.once('disconnect', r));
    await expect(bad.client.call('Mul', { A: 2, B: 2 })).rejects.toThrow(new ServiceError('invalid token'));
    await disconnected;
    await bad.stop();
  });

  test('heartbeats are echoed and keep the connection open', async () => {
    let beats = 0;
    const t = await setup({ plugins: [{ heartbeat: () => void beats++ }] }, { heartbeat: { intervalMs: 20, timeoutMs: 500 } });
    expect(await t.client.call('Mul', { A: 1, B: 2 })).toEqual({ C: 2 });
    await waitUntil(() => beats >= 3);
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(await t.client.call('Mul', { A: 3, B: 2 })).toEqual({ C: 6 });
    expect(t.server.activeConnections()).toHaveLength(1);
    await t.stop();
  });

  test('server push arrives as a oneway raw request frame', async () => {
    const t = await setup();
    const pushed = new Promise<import('@rpcx/xclient').ServerMessage>((r) => t.client.once('message', r));
    expect(await t.client.call('Push', { A: 3, B: 0 })).toEqual({ C: 3 });
    const m = await pushed;
    expect(m.servicePath).toBe('Push');
    expect(m.serviceMethod).toBe('Hello');
    expect({ ...m.metadata }).toEqual({ k: 'v' });
    expect(Buffer.from(m.payload).toString()).toBe('push 3');
    expect(m.message).toMatchObject({ isResponse: false, oneway: true, heartbeat: false, serializeType: 0, seq: 1 });
    await t.stop();
  });
});

describe('plugins', () => {
  test('hooks run in Go order and can replace args and reply', async () => {
    const order: string[] = [];
    const plugin: ServerPlugin = {
      connAccept: () => void order.push('connAccept'),
      preReadRequest: () => void order.push('preReadRequest'),
      postReadRequest: () => void order.push('postReadRequest'),
      preHandleRequest: () => void order.push('preHandleRequest'),
      preCall: (_c, _s, _m, args) => {
        order.push('preCall');
        return { ...(args as Args), B: 100 };
      },
      postCall: (_c, _s, _m, _a, reply) => {
        order.push('postCall');
        return { C: (reply as Reply).C + 1 };
      },
      preWriteResponse: () => void order.push('preWriteResponse'),
      postWriteResponse: () => void order.push('postWriteResponse'),
    };
    const t = await setup({ plugins: [plugin] });
    expect(await t.client.call('Mul', { A: 2, B: 3 })).toEqual({ C: 201 });
    expect(order).toEqual([
      'connAccept',
      'preReadRequest',
      'postReadRequest',
      'preHandleRequest',
      'preCall',
      'postCall',
      'preWriteResponse',
      'postWriteResponse',
    ]);
    await t.stop();
  });

  test('a rate-limit error from postReadRequest is answered and the connection kept', async () => {
    let calls = 0;
    const t = await setup(
      {
        plugins: [
          {
            postReadRequest: () => {
              if (++calls === 1) throw new RateLimitError();
            },
          },
        ],
      },
      {},
    );
    await expect(t.client.call('Mul', { A: 1, B: 1 })).rejects.toThrow('request reached rate limit');
    expect(await t.client.call('Mul', { A: 2, B: 2 })).toEqual({ C: 4 });
    await t.stop();
  });

  test('connAccept returning false rejects the connection', async () => {
    const t = await setup({ plugins: [{ connAccept: () => false }] }, { failMode: FailMode.Failfast });
    await expect(t.client.call('Mul', { A: 1, B: 1 })).rejects.toBeInstanceOf(ConnectionError);
    await t.stop();
  });

  test('preCall and postCall that return nothing leave the args and the reply as they were', async () => {
    const seen: unknown[] = [];
    const t = await setup({
      plugins: [
        {
          // A forgotten `return`: Go's hooks always return the value, here undefined keeps it.
          preCall: (_c, _s, _m, args) => void seen.push(args),
          postCall: (_c, _s, _m, _a, reply) => void seen.push(reply),
        },
        { preCall: async () => undefined, postCall: async () => undefined },
      ],
    });
    expect(await t.client.call('Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
    expect(seen).toEqual([{ A: 2, B: 3 }, { C: 6 }]);
    await t.stop();
  });

  test('register hooks see every service, including ones registered before use()', async () => {
    const t = await setup();
    const seen: string[] = [];
    await t.server.use({ register: (name, _svc, meta) => void seen.push(`${name}?${meta}`) });
    await t.server.register({ Ping: () => 'pong' }, { name: 'Pinger', metadata: { weight: '5', group: 'a b' } });
    expect(seen).toEqual(['Arith?', 'Pinger?group=a+b&weight=5']);
    await t.stop();
  });

  test('use() announces earlier services with their object and functions through registerFunction', async () => {
    const t = await setup();
    const echo = (a: unknown) => a;
    await t.server.registerFunction('Tools', echo, { name: 'Echo', metadata: 'group=t' });
    const seen: unknown[][] = [];
    await t.server.use({
      register: (name, service, meta) => void seen.push(['register', name, service, meta]),
      registerFunction: (servicePath, name, fn, meta) => void seen.push(['registerFunction', servicePath, name, fn, meta]),
    });
    expect(seen).toEqual([
      ['register', 'Arith', t.arith, ''],
      ['registerFunction', 'Tools', 'Echo', echo, 'group=t'],
    ]);
    await t.stop();
  });

  test('Startable plugins are started when the server listens (or when added later) and stopped on shutdown', async () => {
    const log: string[] = [];
    const startable = (name: string) => ({
      name,
      start: async () => void log.push(`start ${name}`),
      stop: async () => void log.push(`stop ${name}`),
    });
    const transport = memoryTransport();
    const server = new Server({ transports: [transport], plugins: [startable('early')] });
    expect(log).toEqual([]);
    await server.listen('memu', `startable-${++n}`);
    await server.listen('memu', `startable-${++n}`);
    expect(log).toEqual(['start early']);
    await server.use(startable('late'));
    expect(log).toEqual(['start early', 'start late']);
    await server.shutdown();
    expect(log).toEqual(['start early', 'start late', 'stop early', 'stop late']);
  });

  test('a Startable plugin that fails to start fails listen, and nothing listens', async () => {
    const transport = memoryTransport();
    const failing: ServerPlugin & Startable = { start: () => Promise.reject(new Error('registry down')), stop: () => undefined };
    const server = new Server({ transports: [transport], plugins: [failing] });
    const address = `startable-${++n}`;
    await expect(server.listen('memu', address)).rejects.toThrow('registry down');
    expect(server.addresses()).toEqual([]);
    await expect(transport.dial('memu', address, {})).rejects.toThrow();
    await server.close();
  });
});

describe('options', () => {
  test('errorText rewrites __rpcx_error__ of rpcx error responses (Go ServerErrorFunc)', async () => {
    const t = await setup({ errorText: (res, err) => `[${res.servicePath}.${res.serviceMethod}] ${err.message}` });
    await expect(t.client.call('Error', { A: 4, B: 0 })).rejects.toThrow('[Arith.Error] boom 4');
    await expect(t.client.call('Nope', {})).rejects.toThrow("[Arith.Nope] rpcx: can't find method Nope");
    expect(await t.client.call('Mul', { A: 2, B: 2 })).toEqual({ C: 4 });
    await t.stop();
  });

  test('a codec of your own at serialize type 5 (the seed registers gob there), on both sides', async () => {
    // JSON, then base64: bytes no built-in codec makes. The Go client with the same codec:
    // interop/test/go-client.test.ts.
    const seen: string[] = [];
    const base64Json: Codec = {
      serializeType: 5,
      name: 'base64-json',
      encode: (v) => Buffer.from(Buffer.from(JSON.stringify(v ?? null)).toString('base64'), 'latin1'),
      decode: (b) => {
        seen.push(Buffer.from(b).toString('latin1'));
        return JSON.parse(Buffer.from(Buffer.from(b).toString('latin1'), 'base64').toString('utf8'));
      },
    };
    const t = await setup({ codecs: [json, base64Json] }, { codecs: [base64Json], serializeType: 5 });
    expect(await t.client.call('Mul', { A: 6, B: 7 })).toEqual({ C: 42 });
    // The request went as base64 (decoded by the server); the reply came back as base64 (decoded here).
    expect(seen).toEqual([Buffer.from('{"A":6,"B":7}').toString('base64'), Buffer.from('{"C":42}').toString('base64')]);
    await t.stop();
  });

  test('register({ methods }) serves only the methods listed (Go RegisterWithMethods)', async () => {
    const t = await setup();
    await t.server.register(new Arith(), { name: 'Some', methods: ['Add'] });
    expect(t.server.listServices().Some).toEqual(['Add']);
    const some = new XClient({ servicePath: 'Some', discovery: peer2peer(`memu@${t.address}`), transports: [t.transport], codecs: [json], serializeType: 1 });
    try {
      expect(await some.call('Add', { A: 2, B: 2 })).toEqual({ C: 4 });
      await expect(some.call('Mul', { A: 2, B: 2 })).rejects.toThrow("rpcx: can't find method Mul");
    } finally {
      await some.close();
    }
    await expect(t.server.register(new Arith(), { name: 'Bad', methods: ['Mul', 'Div'] })).rejects.toThrow('rpcx.Register: method "Div" not found on Bad');
    await expect(t.server.register(new Arith(), { name: 'Empty', methods: [] })).rejects.toThrow('empty methods whitelist');
    await t.stop();
  });
});

describe('handler API', () => {
  test('bind, write and writeError, consulted before services', async () => {
    const t = await setup();
    t.server.addHandler('Arith', 'Mul', (ctx) => {
      const a = ctx.bind<Args>();
      ctx.responseMetadata.via = 'handler';
      ctx.write({ C: a.A * a.B * 10 });
    });
    t.server.addHandler('Arith', 'Fail', (ctx) => ctx.writeError('nope'));
    t.server.addHandler('Arith', 'Silent', () => {});
    const meta: Record<string, string> = {};
    expect(await t.client.call('Mul', { A: 2, B: 3 }, { responseMetadata: meta })).toEqual({ C: 60 });
    expect(meta.via).toBe('handler');
    await expect(t.client.call('Fail', {})).rejects.toThrow('nope');
    expect(await t.client.call('Silent', {})).toBeNull();
    await t.stop();
  });
});

describe('malformed input', () => {
  test('a bad frame closes only that connection; others keep working', async () => {
    const t = await setup();
    expect(await t.client.call('Mul', { A: 2, B: 2 })).toEqual({ C: 4 });
    const raw = await t.transport.dial('memu', t.address, {});
    const closed = new Promise<Error | undefined>((resolve) => raw.setHandler({ onData: () => {}, onClose: resolve }));
    const bad = encodeMessage(new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 1, payload: Buffer.from('{}') }));
    bad[0] = 0x47;
    raw.write(bad);
    await closed;
    expect(await t.client.call('Mul', { A: 3, B: 3 })).toEqual({ C: 9 });
    await t.stop();
  });
});

describe('graceful shutdown', () => {
  test('in-flight calls finish, services are unregistered, new calls fail', async () => {
    const t = await setup();
    const unregistered: string[] = [];
    await t.server.use({ unregister: (name) => void unregistered.push(name) });
    const slow = t.client.call('Slow', { A: 100, B: 0 });
    await new Promise((r) => setTimeout(r, 20));
    const down = t.server.shutdown({ timeoutMs: 2000 });
    expect(await slow).toEqual({ C: 0 });
    await down;
    expect(unregistered).toEqual(['Arith']);
    await expect(t.client.call('Mul', { A: 1, B: 1 })).rejects.toBeInstanceOf(ConnectionError);
    await t.stop();
  });
});
