// Client interceptors against real servers: what a third-party tracing, metrics or limiting
// interceptor sees of calls and attempts, and what it can change.
import {
  ConfigError,
  FailMode,
  RateLimitError,
  type ClientAttemptInterceptor,
  type ClientInterceptor,
  type ClientInterceptors,
  type Selector,
} from '@rpcx/core';
import { XClient, multipleServers, type XClientOptions } from '@rpcx/xclient';
import { codec, deadServerKey, startServer, transport, type TestServer } from './support.js';

const servers: TestServer[] = [];
const clients: XClient[] = [];

async function serve(name: string, behaviour: Parameters<typeof startServer>[1] = {}): Promise<TestServer> {
  const s = await startServer(name, behaviour);
  servers.push(s);
  return s;
}

function client(keys: string[], options: Partial<XClientOptions> = {}): XClient {
  const c = new XClient({
    servicePath: 'Who',
    discovery: multipleServers(keys.map((key) => ({ key, value: '' }))),
    transports: [transport],
    codecs: [codec],
    ...options,
  });
  clients.push(c);
  return c;
}

/** Picks the given keys in turn. */
const inTurn = (...keys: string[]): (() => Selector) => {
  let i = 0;
  return () => ({ select: () => keys[i++ % keys.length], updateServers: () => {} });
};

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.kill()));
});

test('a call interceptor times the whole call and sees its reply and reply metadata', async () => {
  const slow = await serve('slow', { delayMs: 60 });
  const seen: { kind: string; method: string; ms: number; reply: unknown; servedBy: string }[] = [];
  const timing: ClientInterceptor = (next) => async (call) => {
    const start = performance.now();
    const result = await next(call);
    seen.push({ kind: call.kind, method: call.serviceMethod, ms: performance.now() - start, reply: result.reply, servedBy: result.metadata.served_by });
    return result;
  };
  const c = client([slow.key], { interceptors: [timing] });
  expect(await c.call('Name', null)).toBe('slow');
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ kind: 'call', method: 'Name', reply: 'slow', servedBy: 'slow' });
  expect(seen[0].ms).toBeGreaterThanOrEqual(55);
});

test('an interceptor that rejects fails the call before anything is sent, and no fail mode retries it', async () => {
  const a = await serve('a');
  let attempts = 0;
  const limiter: ClientInterceptors = {
    calls: () => async () => {
      throw new RateLimitError();
    },
  };
  const counter: ClientAttemptInterceptor = (next) => (attempt) => (attempts++, next(attempt));
  const c = client([a.key], { interceptors: [limiter, { attempts: counter }], failMode: FailMode.Failover });
  await expect(c.call('Name', null)).rejects.toBeInstanceOf(RateLimitError);
  expect(attempts).toBe(0);
  expect(a.calls).toBe(0);

  // The same refusal per attempt: Failover stops at the first one.
  const perAttempt: ClientAttemptInterceptor = () => async () => {
    attempts++;
    throw new RateLimitError();
  };
  const d = client([a.key], { interceptors: [{ attempts: perAttempt }], failMode: FailMode.Failover, retries: 3 });
  await expect(d.call('Name', null)).rejects.toBeInstanceOf(RateLimitError);
  expect(attempts).toBe(1);
});

test('interceptors rewrite args and metadata; each attempt carries its own metadata', async () => {
  const a = await serve('a');
  const withTenant: ClientInterceptor = (next) => (call) => next({ ...call, metadata: { ...call.metadata, tenant: 't1' } });
  const traceparent: ClientAttemptInterceptor = (next) => (attempt) => {
    attempt.metadata.traceparent = `00-${attempt.call.values.get('trace')}-${attempt.attempt}-01`;
    return next(attempt);
  };
  const trace: ClientInterceptor = (next) => (call) => {
    call.values.set('trace', 'abc');
    return next(call);
  };
  const doubleArgs: ClientInterceptor = (next) => (call) => next({ ...call, args: [call.args, call.args] });
  const callerMetadata = { mine: 'yes' };
  const c = client([a.key], { interceptors: [withTenant, trace, { attempts: traceparent }, doubleArgs], auth: 'tok' });
  expect(await c.call('Name', null, { metadata: callerMetadata })).toBe('a');
  expect(a.metadata[0]).toEqual({ mine: 'yes', tenant: 't1', traceparent: '00-abc-1-01', __AUTH: 'tok' });
  expect(callerMetadata).toEqual({ mine: 'yes' }); // the caller's map is not written to
  expect(await c.call('Echo', 7)).toEqual([7, 7]);
});

test('Failover retries are attempts of one call, on the servers they went to', async () => {
  const dead = await deadServerKey();
  const b = await serve('b');
  const calls: string[] = [];
  const attempts: [string, number][] = [];
  const c = client([dead, b.key], {
    failMode: FailMode.Failover,
    selector: inTurn(dead, b.key),
    interceptors: [
      {
        calls: (next) => (call) => (calls.push(call.kind), next(call)),
        attempts: (next) => (attempt) => (attempts.push([attempt.server, attempt.attempt]), next(attempt)),
      },
    ],
  });
  expect(await c.call('Name', null)).toBe('b');
  expect(calls).toEqual(['call']);
  expect(attempts).toEqual([
    [dead, 1],
    [b.key, 2],
  ]);
});

test("Failbackup's backup request is attempt 2, to another server", async () => {
  const slow = await serve('slow', { delayMs: 400 });
  const fast = await serve('fast');
  const attempts: [string, number][] = [];
  const c = client([slow.key, fast.key], {
    failMode: FailMode.Failbackup,
    backupLatencyMs: 30,
    selector: () => ({ select: () => slow.key, updateServers: () => {} }),
    interceptors: [{ attempts: (next) => (attempt) => (attempts.push([attempt.server, attempt.attempt]), next(attempt)) }],
  });
  expect(await c.call('Name', null)).toBe('fast');
  expect(attempts).toEqual([
    [slow.key, 1],
    [fast.key, 2],
  ]);
});

test('a fan-out call is one call and one attempt per server, each with its target', async () => {
  const all = [await serve('a'), await serve('b'), await serve('c')];
  const calls: string[] = [];
  const targets: string[] = [];
  const c = client(
    all.map((s) => s.key),
    {
      interceptors: [
        {
          calls: (next) => (call) => (calls.push(call.kind), next(call)),
          attempts: (next) => (attempt) => {
            targets.push(`${attempt.server} ${attempt.attempt} ${attempt.target?.index}/${attempt.target?.count}`);
            return next(attempt);
          },
        },
      ],
    },
  );
  expect(['a', 'b', 'c']).toContain(await c.broadcast('Name', null));
  const receipts = await c.inform<string>('Name', null);
  expect(receipts.map((r) => r.reply).sort()).toEqual(['a', 'b', 'c']);
  expect(calls).toEqual(['broadcast', 'inform']);
  // Targets are numbered in the order of the (sorted) server list.
  const expected = [...c.serverList.keys()].map((key, i) => `${key} 1 ${i}/3`);
  expect(targets.slice(0, 3).sort()).toEqual(expected);
  expect(targets.slice(3).sort()).toEqual(expected);
});

test('order: interceptors in list order outside, plugins innermost in Go order', async () => {
  const a = await serve('a');
  const order: string[] = [];
  const level = (name: string): ClientInterceptors => ({
    calls: (next) => async (call) => {
      order.push(`${name}.call in`);
      const r = await next(call);
      order.push(`${name}.call out`);
      return r;
    },
    attempts: (next) => async (attempt) => {
      order.push(`${name}.attempt in`);
      const r = await next(attempt);
      order.push(`${name}.attempt out`);
      return r;
    },
  });
  const c = client([a.key], {
    interceptors: [level('outer'), level('inner')],
    plugins: [
      {
        wrapSelect: (next) => (request) => (order.push('select'), next(request)),
        clientConnected: () => void order.push('clientConnected'),
        preCall: () => void order.push('preCall'),
        beforeEncode: () => void order.push('beforeEncode'),
        afterDecode: () => void order.push('afterDecode'),
        postCall: () => void order.push('postCall'),
      },
    ],
  });
  await c.call('Name', null);
  expect(order).toEqual([
    'outer.call in',
    'inner.call in',
    'select',
    'outer.attempt in',
    'inner.attempt in',
    'clientConnected',
    'preCall',
    'beforeEncode',
    'afterDecode',
    'postCall',
    'inner.attempt out',
    'outer.attempt out',
    'inner.call out',
    'outer.call out',
  ]);
});

test('plugins change a call: preCall rewrites args and metadata, postCall replaces the reply or keeps it', async () => {
  const a = await serve('a');
  const c = client([a.key], {
    plugins: [
      {
        preCall: (attempt) => {
          attempt.args = { wrapped: attempt.args };
          attempt.metadata.via = 'plugin';
        },
      },
      { postCall: (_attempt, reply) => (typeof reply === 'string' ? reply.toUpperCase() : reply) },
      { postCall: () => undefined }, // a forgotten return keeps the reply
    ],
  });
  expect(await c.call('Echo', 1)).toEqual({ wrapped: 1 });
  expect(await c.call('Name', null)).toBe('A');
  expect(a.metadata[0]).toEqual({ via: 'plugin' });
});

test('an interceptor that throws synchronously rejects the call rather than throwing', async () => {
  const a = await serve('a');
  const sync: ClientInterceptor = () => () => {
    throw new RateLimitError();
  };
  const c = client([a.key], { interceptors: [sync] });
  const outcome = c.call('Name', null); // must not throw here
  await expect(outcome).rejects.toBeInstanceOf(RateLimitError);
});

test('an interceptor list entry that is neither a function nor { calls, attempts } is a ConfigError', () => {
  expect(() => client(['tcp@127.0.0.1:1'], { interceptors: [42 as unknown as ClientInterceptor] })).toThrow(ConfigError);
});
