// Server interceptors on rpcx calls: one that times, one that rejects (Go's rate-limit text as
// the service error), one that rewrites request metadata, the order of several, what a call
// and its result show (sizes, args, metadata both ways), values handed to the method through
// the context, an interceptor that answers without the method, and where the Go hooks run
// inside the chain. The same interceptors on gateway and JSON-RPC calls:
// packages/server-http/test/interceptors.test.ts.
import {
  ConfigError,
  RateLimitError,
  ServiceError,
  type RequestContext,
  type ServerCall,
  type ServerCallResult,
  type ServerInterceptor,
} from '@rpcx/core';
import { Message } from '@rpcx/protocol';
import { Server, type ServerOptions } from '@rpcx/server';
import { memoryTransport } from '@rpcx/transport-memory';
import { XClient, peer2peer } from '@rpcx/xclient';
import { json } from './json.js';

const SPAN = Symbol('span');

class Arith {
  Mul(args: { A: number; B: number }) {
    return { C: args.A * args.B };
  }
  Who(_args: unknown, ctx: RequestContext) {
    return { tenant: ctx.metadata.tenant ?? null, span: ctx.value<string>(SPAN) ?? null };
  }
  Fail(args: { A: number }): never {
    throw new Error(`boom ${args.A}`);
  }
}

let n = 0;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});

async function setup(options: ServerOptions) {
  const transport = memoryTransport();
  const server = new Server({ transports: [transport], codecs: [json], ...options });
  open.push(server);
  await server.register(new Arith());
  const address = `interceptors-${++n}`;
  await server.listen('memu', address);
  const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`memu@${address}`), transports: [transport], codecs: [json], serializeType: 1 });
  open.push(client);
  return { server, client };
}

test('an interceptor that times sees every call, its sizes and its outcome', async () => {
  const seen: { method: string; protocol: string; ms: number; requestSize: number; responseSize: number; error?: string; reply?: unknown }[] = [];
  const timing: ServerInterceptor = (next) => async (call) => {
    const started = performance.now();
    const result = await next(call);
    seen.push({
      method: `${call.servicePath}.${call.serviceMethod}`,
      protocol: call.protocol,
      ms: performance.now() - started,
      requestSize: call.payload.length,
      responseSize: result.payload.length,
      error: result.error?.message,
      reply: result.reply,
    });
    return result;
  };
  const { client } = await setup({ interceptors: [timing] });
  expect(await client.call('Mul', { A: 6, B: 7 })).toEqual({ C: 42 });
  await expect(client.call('Fail', { A: 3 })).rejects.toThrow('boom 3');
  await expect(client.call('Nope', {})).rejects.toThrow("rpcx: can't find method Nope");
  expect(seen).toEqual([
    { method: 'Arith.Mul', protocol: 'rpcx', ms: expect.any(Number), requestSize: 13, responseSize: 8, reply: { C: 42 }, error: undefined },
    { method: 'Arith.Fail', protocol: 'rpcx', ms: expect.any(Number), requestSize: 7, responseSize: 0, reply: undefined, error: 'boom 3' },
    { method: 'Arith.Nope', protocol: 'rpcx', ms: expect.any(Number), requestSize: 2, responseSize: 0, reply: undefined, error: "rpcx: can't find method Nope" },
  ]);
  expect(seen.every((s) => s.ms >= 0)).toBe(true);
});

test('an interceptor that rejects: the client gets its error as a service error, the method never runs', async () => {
  let ran = 0;
  const limit: ServerInterceptor = (next) => async (call) => {
    if (call.metadata.tier !== 'gold') throw new RateLimitError();
    ran++;
    return next(call);
  };
  const { client } = await setup({ interceptors: [limit] });
  const refused = await client.call('Mul', { A: 1, B: 1 }).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ServiceError);
  expect((refused as ServiceError).message).toBe('request reached rate limit');
  expect(await client.call('Mul', { A: 2, B: 3 }, { metadata: { tier: 'gold' } })).toEqual({ C: 6 });
  expect(ran).toBe(1);
});

test('an interceptor that rewrites request metadata and adds response metadata', async () => {
  const tenant: ServerInterceptor = (next) => async (call) => {
    call.metadata.tenant = (call.metadata['x-tenant'] ?? 'none').toUpperCase();
    delete call.metadata['x-tenant'];
    const result = await next(call);
    result.metadata.served = 'yes';
    return result;
  };
  const { client } = await setup({ interceptors: [tenant] });
  const responseMetadata: Record<string, string> = {};
  expect(await client.call('Who', {}, { metadata: { 'x-tenant': 'acme' }, responseMetadata })).toEqual({ tenant: 'ACME', span: null });
  expect(responseMetadata.served).toBe('yes');
});

test('several interceptors run in the order given, the first outermost, around the Go hooks', async () => {
  const order: string[] = [];
  const mark =
    (name: string): ServerInterceptor =>
    (next) =>
    async (call) => {
      order.push(`${name} in`);
      const result = await next(call);
      order.push(`${name} out`);
      return result;
    };
  const { client } = await setup({
    interceptors: [mark('a'), mark('b'), mark('c')],
    auth: () => void order.push('auth'),
    plugins: [
      {
        postReadRequest: () => void order.push('postReadRequest'),
        preHandleRequest: () => void order.push('preHandleRequest'),
        preCall: () => void order.push('preCall'),
        postCall: () => void order.push('postCall'),
        preWriteResponse: () => void order.push('preWriteResponse'),
        postWriteResponse: () => void order.push('postWriteResponse'),
      },
    ],
  });
  expect(await client.call('Mul', { A: 2, B: 2 })).toEqual({ C: 4 });
  expect(order).toEqual([
    'postReadRequest',
    'auth',
    'a in',
    'b in',
    'c in',
    'preHandleRequest',
    'preCall',
    'postCall',
    'c out',
    'b out',
    'a out',
    'preWriteResponse',
    'postWriteResponse',
  ]);
});

test('a value set on the context reaches the method; args can be read and replaced', async () => {
  const trace: ServerInterceptor = (next) => (call) => {
    call.context.setValue(SPAN, `span-for-${call.serviceMethod}`);
    return next(call);
  };
  const double: ServerInterceptor = (next) => (call) => {
    if (call.serviceMethod === 'Mul') {
      const args = call.args as { A: number; B: number };
      call.args = { A: args.A * 2, B: args.B };
    }
    return next(call);
  };
  const { client } = await setup({ interceptors: [trace, double] });
  expect(await client.call('Who', {})).toEqual({ tenant: null, span: 'span-for-Who' });
  expect(await client.call('Mul', { A: 3, B: 5 })).toEqual({ C: 30 });
});

test('reading args of a payload that does not decode fails the call with the codec error', async () => {
  const peek: ServerInterceptor = (next) => (call) => {
    void call.args;
    return next(call);
  };
  const { client } = await setup({ interceptors: [peek] });
  const reply = await client.sendRaw(new Message({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 1, payload: Buffer.from('{') }));
  const jsonError = (() => {
    try {
      return JSON.parse('{');
    } catch (e) {
      return (e as Error).message;
    }
  })();
  expect(reply.metadata.__rpcx_error__).toBe(jsonError);
});

test('an interceptor may answer without calling next (a cache)', async () => {
  const cache = new Map<string, ServerCallResult>();
  let methodCalls = 0;
  const counting: ServerInterceptor = (next) => async (call) => {
    methodCalls++;
    return next(call);
  };
  const cached: ServerInterceptor = (next) => async (call: ServerCall) => {
    const key = `${call.servicePath}.${call.serviceMethod}:${Buffer.from(call.payload).toString('hex')}`;
    const hit = cache.get(key);
    if (hit) return { payload: hit.payload, metadata: { ...call.context.responseMetadata, cache: 'hit' } };
    const result = await next(call);
    if (!result.error) cache.set(key, result);
    return result;
  };
  const { client } = await setup({ interceptors: [cached, counting] });
  const meta: Record<string, string> = {};
  expect(await client.call('Mul', { A: 4, B: 4 })).toEqual({ C: 16 });
  expect(await client.call('Mul', { A: 4, B: 4 }, { responseMetadata: meta })).toEqual({ C: 16 });
  expect(meta.cache).toBe('hit');
  expect(methodCalls).toBe(1);
});

test('next() rejects with a ConfigError when given another object than the call', async () => {
  let caught: unknown;
  const copying: ServerInterceptor = (next) => async (call) => {
    try {
      return await next({ ...call });
    } catch (err) {
      caught = err;
      throw err;
    }
  };
  const { client } = await setup({ interceptors: [copying] });
  await expect(client.call('Mul', { A: 1, B: 1 })).rejects.toThrow('a server interceptor must pass on the call it was given to next()');
  expect(caught).toBeInstanceOf(ConfigError);
});

test('a reflection-free handler binds the args an interceptor assigned', async () => {
  const rewrite: ServerInterceptor = (next) => (call) => {
    call.args = { A: 10, B: 10 };
    return next(call);
  };
  const { server, client } = await setup({ interceptors: [rewrite] });
  server.addHandler('Arith', 'Raw', (ctx) => {
    const a = ctx.bind<{ A: number; B: number }>();
    ctx.write({ C: a.A + a.B });
  });
  expect(await client.call('Raw', { A: 1, B: 1 })).toEqual({ C: 20 });
});
