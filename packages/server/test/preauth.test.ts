// Nothing expensive happens before auth, and inflation never holds the event loop. Clients
// without a token send metadata-key floods and gzip bombs, a client with the token sends bombs
// just under the cap, and a probe client with the token must keep getting answers within a
// bound meanwhile. The server runs in a child process. Without the limits (checked by hand:
// limits off, inflation synchronous) the probe's slowest call was 0.4-0.8 s and it made 10-27
// calls instead of 110-140 in the same time.
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { MetaKey, newMetadata } from '@rpcx/core';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { frame, probe, sleep, startTarget, stopAllTargets, type ProbeResult } from './hostile.js';

afterEach(stopAllTargets);

const TIMEOUT = 60_000;
const TOKEN = 'secret';
const codec = msgpackCodec();
/**
 * Bounds on what the probe sees: it saw 15-80 ms here on a quiet machine, while a blocked
 * event loop (the same floods without these limits) holds most calls made during the attack
 * at 400 ms to seconds. On a loaded machine a few calls are delayed at random (one at 976 ms
 * was seen with the machine running other jobs), so the 90th percentile carries the tight
 * bound and the slowest call only a loose one.
 */
const LATENCY_BOUND_MS = 400;
const SLOWEST_BOUND_MS = 2000;
const ATTACK_MS = 3000;

/** A frame for Arith.Mul whose metadata is `pairs` copies of the key "k" with an empty value. */
function metadataFlood(pairs: number): Buffer {
  const sp = Buffer.from('Arith');
  const sm = Buffer.from('Mul');
  const meta = Buffer.alloc(pairs * 9, Buffer.from([0, 0, 0, 1, 0x6b, 0, 0, 0, 0]));
  const payload = Buffer.from(codec.encode({ A: 1, B: 1 }));
  const total = 16 + sp.length + sm.length + meta.length + payload.length;
  const out = Buffer.alloc(16 + total);
  out.set([0x08, 0, 0, 0x30]);
  out.writeUInt32BE(1, 8);
  out.writeUInt32BE(total, 12);
  let at = 16;
  for (const part of [sp, sm, meta, payload]) {
    out.writeUInt32BE(part.length, at);
    part.copy(out, at + 4);
    at += 4 + part.length;
  }
  return out;
}

/** A gzip-flagged Arith.Mul frame whose payload inflates to `inflated` zero bytes. */
function gzipBomb(inflated: number, metadata: Record<string, string> = {}): Buffer {
  const payload = gzipSync(Buffer.alloc(inflated));
  const bytes = frame({ servicePath: 'Arith', serviceMethod: 'Mul', serializeType: 3, seq: 1, metadata: newMetadata(metadata), payload });
  bytes[2] |= 1 << 2; // gzip, without compressing twice
  return bytes;
}

/** Connect, write `payload`, and wait for the server to close: whether it did, and what it answered first. */
async function send(port: number, payload: Buffer, timeoutMs = 10_000): Promise<{ closed: boolean; answered: number }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let answered = 0;
  socket.on('data', (d: Buffer) => (answered += d.length));
  socket.write(payload);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  return { closed, answered };
}

/** `attackers` loops sending `payload` on fresh connections for ATTACK_MS while the probe calls. */
async function flood(port: number, address: string, payload: Buffer, attackers = 3): Promise<{ probe: ProbeResult; refused: number }> {
  const calls = probe(address, { auth: TOKEN });
  const until = Date.now() + ATTACK_MS;
  let refused = 0;
  const loops = Array.from({ length: attackers }, async () => {
    while (Date.now() < until) if ((await send(port, payload)).closed) refused++;
  });
  await Promise.all(loops);
  return { probe: await calls.stop(), refused };
}

function expectServed(p: ProbeResult): void {
  expect(p.failures).toBe(0);
  expect(p.calls).toBeGreaterThan(10);
  expect(p.p90Ms).toBeLessThan(LATENCY_BOUND_MS);
  expect(p.maxMs).toBeLessThan(SLOWEST_BOUND_MS);
}

test('64 MiB frames of 7.4 M metadata keys without a token are refused from their prefix', async () => {
  const target = await startTarget({}, TOKEN);
  await sleep(200);
  const r = await flood(target.port, target.address, metadataFlood(7_450_000), 2);
  expect(r.refused).toBeGreaterThan(2);
  expectServed(r.probe);
}, TIMEOUT);

test('100 k metadata keys in a frame under the pre-auth limit: refused at key 1025, before auth', async () => {
  const target = await startTarget({}, TOKEN);
  // Refused by the decoder: closed without the error reply that a refusal by auth sends.
  expect(await send(target.port, metadataFlood(100_000))).toEqual({ closed: true, answered: 0 });
  // 1024 keys are decoded, and auth refuses: answered, then closed.
  const refusedByAuth = await send(target.port, metadataFlood(1024));
  expect(refusedByAuth.closed).toBe(true);
  expect(refusedByAuth.answered).toBeGreaterThan(0);
}, TIMEOUT);

test('a gzip bomb without a token stops at the 1 MiB pre-auth cap, before auth', async () => {
  const target = await startTarget({}, TOKEN);
  // 64 KiB inflating to 64 MiB: refused while inflating, no reply.
  expect(await send(target.port, gzipBomb(64 * 1024 * 1024))).toEqual({ closed: true, answered: 0 });
  // Under the cap it inflates, and auth refuses it with an answer.
  const small = await send(target.port, gzipBomb(512 * 1024));
  expect(small.closed).toBe(true);
  expect(small.answered).toBeGreaterThan(0);
}, TIMEOUT);

test('floods of gzip bombs without a token (20 per connection) leave other clients served', async () => {
  const target = await startTarget({}, TOKEN);
  await sleep(200);
  const bomb = gzipBomb(64 * 1024 * 1024);
  const r = await flood(target.port, target.address, Buffer.concat(Array.from({ length: 20 }, () => bomb)));
  expect(r.refused).toBeGreaterThan(3);
  expectServed(r.probe);
}, TIMEOUT);

test('gzip bombs with the token, just under the 32 MiB cap, inflate off the event loop', async () => {
  const target = await startTarget({}, TOKEN);
  await sleep(200);
  // Each is accepted and inflated (then fails as msgpack): 20 of them pipelined on each
  // connection, the token in every frame's metadata, so these are authorised calls.
  const bomb = gzipBomb(30 * 1024 * 1024, { [MetaKey.Auth]: TOKEN });
  const bombs = Buffer.concat(Array.from({ length: 20 }, () => bomb));
  const calls = probe(target.address, { auth: TOKEN });
  const attackers = Array.from({ length: 2 }, async () => {
    const until = Date.now() + ATTACK_MS;
    while (Date.now() < until) {
      const socket = connect(target.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(bombs);
      await sleep(500);
      socket.destroy();
    }
  });
  await Promise.all(attackers);
  expectServed(await calls.stop());
}, TIMEOUT);
