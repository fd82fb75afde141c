// The transport under a real @rpcx server and XClient: `server.listen('kcp', …)`, a client key
// `kcp@…`, session options passed the way users pass them, and a graceful server shutdown.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { XClient, peer2peer } from '@rpcx/xclient';
import { kcpTransport, type KcpTransportOptions } from '../src/index.js';

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

/** Whether this machine has an IPv6 loopback for UDP. */
async function hasIPv6Loopback(): Promise<boolean> {
  const socket = dgram.createSocket('udp6');
  return new Promise<boolean>((resolve) => {
    socket.once('error', () => resolve(false));
    socket.bind(0, '::1', () => socket.close(() => resolve(true)));
  });
}

const ipv6 = await hasIPv6Loopback();

describe('rpcx calls over kcp', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  async function roundTrip(serverOptions: KcpTransportOptions, clientOptions: KcpTransportOptions, host = '127.0.0.1') {
    const server = new Server({ transports: [kcpTransport(serverOptions)], codecs: [msgpackCodec()] });
    await server.register(new Arith());
    const listener = await server.listen('kcp', `${host.includes(':') ? `[${host}]` : host}:0`);
    closers.push(() => server.close());
    expect(server.addresses()).toEqual([`kcp@${listener.address}`]);
    const client = new XClient({
      servicePath: 'Arith',
      discovery: peer2peer(`kcp@${listener.address}`),
      transports: [kcpTransport(clientOptions)],
      codecs: [msgpackCodec()],
    });
    closers.push(() => client.close());
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => client.call<{ C: number }>('Mul', { A: i, B: 2 })));
    expect(replies.every((r, i) => r.C === i * 2)).toBe(true);
    return { server, client };
  }

  it('with the defaults (AES-256 with rpcx’s example key, FEC 10+3)', () => roundTrip({}, {}));

  it('with a key of our own on both sides', async () => {
    const key = crypto.randomBytes(32);
    await roundTrip({ key }, { key });
  });

  it('with 10% of the datagrams lost each way', () => roundTrip({ simulatedLoss: 0.1 }, { simulatedLoss: 0.1 }), 30_000);

  (ipv6 ? it : it.skip)('over IPv6 loopback (skipped where the machine has none)', () => roundTrip({}, {}, '::1'));

  it('a graceful server shutdown ends the client’s connection cleanly', async () => {
    const { server, client } = await roundTrip({}, {});
    const disconnected = new Promise<unknown>((resolve) => client.once('disconnect', (_key: string, error: unknown) => resolve(error)));
    await server.shutdown({ timeoutMs: 2000 });
    expect(await disconnected).toBeUndefined();
  });
});
