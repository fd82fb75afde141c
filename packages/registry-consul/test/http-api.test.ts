/**
 * The Consul HTTP API semantics @rpcx/registry-consul relies on, checked with plain HTTP
 * against a real Consul agent (v1.14.11) and against `ConsulStandIn`: the same assertions on
 * both are what hold the stand-in (used for the wire-level test) to Consul's behaviour.
 */
import { ConsulAgent } from './consul-agent.js';
import { ConsulStandIn } from './consul-standin.js';

const prefix = `rpcx_http_${Date.now().toString(36)}`;
let n = 0;

describe.each([
  ['consul agent v1.14.11', async () => {
    const agent = await ConsulAgent.start();
    return { address: agent.address, destroy: () => agent.destroy() };
  }],
  ['ConsulStandIn', async () => {
    const standIn = await ConsulStandIn.start({ sessionTtlMinMs: 1000 });
    return { address: standIn.address, destroy: () => standIn.destroy() };
  }],
] as const)('%s', (_name, start) => {
let server: { address: string; destroy(): Promise<void> } | undefined;
let base: string;

beforeAll(async () => {
  server = await start();
  base = `http://${server.address}`;
}, 60_000);

afterAll(async () => {
  await server?.destroy();
});

async function http(method: string, path: string, body?: string) {
  const res = await fetch(`${base}${path}`, { method, body, signal: AbortSignal.timeout(10_000) });
  // Compact or pretty JSON (an agent in -dev mode pretty-prints): compare trimmed text.
  return { status: res.status, text: (await res.text()).trim(), index: Number(res.headers.get('x-consul-index')) };
}

const key = () => `${prefix}/k${++n}`;

async function session(body: Record<string, unknown>): Promise<string> {
  const res = await http('PUT', '/v1/session/create', JSON.stringify(body));
  expect(res.status).toBe(200);
  return (JSON.parse(res.text) as { ID: string }).ID;
}

async function entry(k: string): Promise<{ Session?: string; Value: string | null; ModifyIndex: number; LockIndex: number; flags: string } | undefined> {
  const res = await http('GET', `/v1/kv/${k}`);
  if (res.status === 404) return undefined;
  const [e] = JSON.parse(res.text) as { Session?: string; Value: string | null; ModifyIndex: number; LockIndex: number }[];
  return { ...e, Value: e.Value === null ? null : Buffer.from(e.Value, 'base64').toString(), flags: /"Flags":\s*(\d+)/.exec(res.text)![1] };
}

test('PUT with ?flags keeps the uint64 exactly; a missing key is 404 with an index', async () => {
  const k = key();
  expect((await http('PUT', `/v1/kv/${k}?flags=3304740253564472344`, 'v')).text).toBe('true');
  expect(await entry(k)).toMatchObject({ Value: 'v', flags: '3304740253564472344', LockIndex: 0 });
  const missing = await http('GET', `/v1/kv/${key()}`);
  expect(missing.status).toBe(404);
  expect(missing.index).toBeGreaterThan(0);
});

test('acquire: the holder may write; another session may not; a plain PUT keeps the lock', async () => {
  const k = key();
  const a = await session({ Behavior: 'release', TTL: '10s', LockDelay: '1ms' });
  const b = await session({ Behavior: 'release', TTL: '10s', LockDelay: '1ms' });
  expect((await http('PUT', `/v1/kv/${k}?acquire=${a}`, 'a1')).text).toBe('true');
  expect(await entry(k)).toMatchObject({ Value: 'a1', Session: a, LockIndex: 1 });
  expect((await http('PUT', `/v1/kv/${k}?acquire=${a}`, 'a2')).text).toBe('true');
  expect(await entry(k)).toMatchObject({ Value: 'a2', Session: a, LockIndex: 1 });
  expect((await http('PUT', `/v1/kv/${k}?acquire=${b}`, 'b')).text).toBe('false');
  expect((await http('PUT', `/v1/kv/${k}`, 'plain')).text).toBe('true');
  expect(await entry(k)).toMatchObject({ Value: 'plain', Session: a });
  const invalid = await http('PUT', `/v1/kv/${k}?acquire=00000000-0000-0000-0000-000000000000`, 'x');
  expect(invalid.status).toBe(500);
  expect(invalid.text).toMatch(/invalid session/);
  await http('PUT', `/v1/session/destroy/${a}`);
  await http('PUT', `/v1/session/destroy/${b}`);
});

test('a write that changes nothing does not move the index', async () => {
  const k = key();
  await http('PUT', `/v1/kv/${k}?flags=1`, 'same');
  const first = (await entry(k))!.ModifyIndex;
  await http('PUT', `/v1/kv/${k}?flags=1`, 'same');
  expect((await entry(k))!.ModifyIndex).toBe(first);
  await http('PUT', `/v1/kv/${k}?flags=1`, 'other');
  expect((await entry(k))!.ModifyIndex).toBeGreaterThan(first);
});

test('sessions: TTL below the minimum is refused; destroy with Behavior delete deletes held keys; renew of a gone session is 404', async () => {
  const tooShort = await http('PUT', '/v1/session/create', JSON.stringify({ TTL: '100ms' }));
  expect(tooShort.status).toBe(500);
  expect(tooShort.text).toMatch(/Invalid Session TTL '100000000'/);

  const s = await session({ Behavior: 'delete', TTL: '1s', LockDelay: '1ms' });
  const info = JSON.parse((await http('GET', `/v1/session/info/${s}`)).text) as { Behavior: string; TTL: string; LockDelay: number }[];
  expect(info[0]).toMatchObject({ Behavior: 'delete', TTL: '1s', LockDelay: 1_000_000 });
  expect((await http('PUT', `/v1/session/renew/${s}`)).status).toBe(200);
  const k = key();
  await http('PUT', `/v1/kv/${k}?acquire=${s}`, 'held');
  expect((await http('PUT', `/v1/session/destroy/${s}`)).text).toBe('true');
  expect(await entry(k)).toBeUndefined();
  expect((await http('PUT', `/v1/session/renew/${s}`)).status).toBe(404);
});

test('an unrenewed TTL session is invalidated after 2 × TTL and its keys deleted', async () => {
  const s = await session({ Behavior: 'delete', TTL: '1s', LockDelay: '1ms' });
  const k = key();
  await http('PUT', `/v1/kv/${k}?acquire=${s}`, 'held');
  const t0 = Date.now();
  while ((await entry(k)) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
  const elapsed = Date.now() - t0;
  expect(await entry(k)).toBeUndefined();
  expect(elapsed).toBeGreaterThanOrEqual(1500); // not at 1 × TTL
  expect(elapsed).toBeLessThan(4000);
}, 10_000);

test('blocking list: returns on a change under the prefix, waits out `wait` otherwise; a delete does not move the index back', async () => {
  const dir = `${prefix}/dir${++n}`;
  await http('PUT', `/v1/kv/${dir}/a`, '1');
  const list = await http('GET', `/v1/kv/${dir}?recurse`);
  const index = list.index;

  let t0 = Date.now();
  const idle = await http('GET', `/v1/kv/${dir}?recurse&index=${index}&wait=300ms`);
  expect(idle.index).toBe(index);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

  t0 = Date.now();
  const pending = http('GET', `/v1/kv/${dir}?recurse&index=${index}&wait=5s`);
  await new Promise((r) => setTimeout(r, 100));
  await http('PUT', `/v1/kv/${dir}/b`, '2');
  const changed = await pending;
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(changed.index).toBeGreaterThan(index);

  await http('DELETE', `/v1/kv/${dir}/b`);
  const afterDelete = await http('GET', `/v1/kv/${dir}?recurse`);
  expect(afterDelete.index).toBeGreaterThan(changed.index); // the tombstone's index
  expect((JSON.parse(afterDelete.text) as { Key: string }[]).map((e) => e.Key)).toEqual([`${dir}/a`]);
});
});
