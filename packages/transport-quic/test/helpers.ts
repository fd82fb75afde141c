import dgram from 'node:dgram';
import { joinHostPort } from '@rpcx/core';

export { selfSigned } from '../../transport-tcp/test/helpers.js';

/** A UDP address on `host` where nothing listens: bound to a free port, then released. */
export async function refusedUdpAddress(host = '127.0.0.1'): Promise<string> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return joinHostPort(host, port);
}

/**
 * A UDP socket that takes datagrams and never answers: a QUIC handshake to it never ends.
 * `close()` checks that the dialler stopped sending once its dial gave up.
 */
export async function silentUdpServer(host = '127.0.0.1'): Promise<{ address: string; received(): number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  let last = 0;
  socket.on('message', () => {
    received++;
    last = Date.now();
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  const address = joinHostPort(host, socket.address().port);
  return {
    address,
    received: () => received,
    async close() {
      // A dialler that gave up must go quiet: wait for 400 ms without a datagram (it sends
      // its Initial again every few hundred ms while it still tries).
      const started = Date.now();
      while (Date.now() - Math.max(last, started) < 400 && Date.now() - started < 4000) await new Promise((r) => setTimeout(r, 50));
      const quiet = Date.now() - last >= 400;
      await new Promise<void>((resolve) => socket.close(resolve));
      if (!quiet) throw new Error(`the dialler still sends to ${address} after its dial gave up`);
    },
  };
}
