// Allow and deny lists on a real TCP server with the HTTP gateway and JSON-RPC on its port:
// connections from other loopback addresses (127.0.0.2, ::1) are refused on accept whatever
// protocol they were going to speak, and allowed ones are served.
import { connect } from 'node:net';
import { jsonCodec } from '@rpcx/codec-json';
import { AccessDeniedError, ConfigError, type Connection } from '@rpcx/core';
import { encodeMessage, heartbeatRequest } from '@rpcx/protocol';
import { Server } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { accessControl, type AccessControlOptions } from '../src/index.js';

class Arith {
  Mul(a: { A: number; B: number }) {
    return { C: a.A * a.B };
  }
}

async function serve(lists: AccessControlOptions, host = '127.0.0.1') {
  const server = new Server({ transports: [tcpTransport()], codecs: [jsonCodec()], http: httpGateway() });
  await server.register(new Arith());
  const plugin = accessControl(lists);
  await server.use(plugin);
  const listener = await server.listen('tcp', host.includes(':') ? `[${host}]:0` : `${host}:0`);
  const port = Number(listener.address.slice(listener.address.lastIndexOf(':') + 1));
  return { server, plugin, port, host };
}

const rpcxHeartbeat = Buffer.from(encodeMessage(heartbeatRequest(1)));
const gateway =
  'POST / HTTP/1.1\r\nHost: x\r\nX-RPCX-SerializeType: 1\r\nX-RPCX-ServicePath: Arith\r\nX-RPCX-ServiceMethod: Mul\r\nContent-Length: 13\r\n\r\n{"A":6,"B":7}';
const jsonRpcBody = '{"method":"Arith.Mul","params":{"A":6,"B":7},"id":1}';
const jsonRpc = `POST / HTTP/1.1\r\nHost: x\r\nX-JSONRPC-2.0: true\r\nContent-Length: ${jsonRpcBody.length}\r\n\r\n${jsonRpcBody}`;
const protocols = { rpcx: rpcxHeartbeat, gateway: Buffer.from(gateway), jsonrpc: Buffer.from(jsonRpc) };

/** Connect from `from`, send `bytes`: 'served' when an answer comes back, 'refused' when closed first. */
function probe(host: string, port: number, from: string, bytes: Buffer): Promise<'served' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress: from }, () => socket.write(bytes));
    socket.setTimeout(5000, () => socket.destroy(new Error('neither answered nor closed in 5 s')));
    socket.once('data', (d) => {
      socket.destroy();
      // An HTTP answer must be the call's reply, not an error page.
      if (bytes !== rpcxHeartbeat && !d.toString().includes('"C":42') && !d.toString().includes('{"C":42}')) reject(new Error(`unexpected answer ${d}`));
      resolve('served');
    });
    socket.once('close', () => resolve('refused'));
    socket.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve('refused') : reject(e)));
  });
}

async function everyProtocol(host: string, port: number, from: string) {
  const seen: Record<string, string> = {};
  for (const [name, bytes] of Object.entries(protocols)) seen[name] = await probe(host, port, from, bytes);
  return seen;
}

const served = { rpcx: 'served', gateway: 'served', jsonrpc: 'served' };
const refused = { rpcx: 'refused', gateway: 'refused', jsonrpc: 'refused' };

test('a deny list (address and CIDR) refuses rpcx, gateway and JSON-RPC alike; others are served', async () => {
  const { server, plugin, port, host } = await serve({ deny: ['127.0.0.2', '10.0.0.0/8'] });
  try {
    expect(await everyProtocol(host, port, '127.0.0.1')).toEqual(served);
    expect(await everyProtocol(host, port, '127.0.0.2')).toEqual(refused);
    expect(plugin.refused).toBe(3);
  } finally {
    await server.close();
  }
});

test('an allow list serves only its CIDR; update() swaps the lists for new connections', async () => {
  const { server, plugin, port, host } = await serve({ allow: ['127.0.0.0/31'] });
  try {
    expect(await everyProtocol(host, port, '127.0.0.1')).toEqual(served);
    expect(await everyProtocol(host, port, '127.0.0.2')).toEqual(refused);
    plugin.update({ allow: ['127.0.0.2'] });
    expect(await everyProtocol(host, port, '127.0.0.1')).toEqual(refused);
    expect(await everyProtocol(host, port, '127.0.0.2')).toEqual(served);
  } finally {
    await server.close();
  }
});

test('IPv6: ::1 allowed by its /128, refused by a deny entry', async () => {
  const a = await serve({ allow: ['::1/128'] }, '::1');
  try {
    expect(await everyProtocol('::1', a.port, '::1')).toEqual(served);
  } finally {
    await a.server.close();
  }
  const d = await serve({ deny: ['::1'] }, '::1');
  try {
    expect(await everyProtocol('::1', d.port, '::1')).toEqual(refused);
  } finally {
    await d.server.close();
  }
});

test('IPv4-mapped IPv6 addresses match IPv4 entries; non-IP addresses follow Go (allow list: refused, deny list: let in)', () => {
  const deny = accessControl({ deny: ['10.0.0.0/8'] });
  expect(deny.allows('::ffff:10.1.2.3')).toBe(false);
  expect(deny.allows('::ffff:11.1.2.3')).toBe(true);
  expect(accessControl({ allow: ['10.0.0.0/8'] }).allows('::ffff:10.1.2.3')).toBe(true);
  expect(accessControl({ allow: ['2001:db8::/32'] }).allows('2001:db8:1::5')).toBe(true);
  expect(accessControl({ allow: ['2001:db8::/32'] }).allows('2001:db9::5')).toBe(false);

  const destroyed: (Error | undefined)[] = [];
  const unix = { remoteAddress: '@', destroy: (e?: Error) => destroyed.push(e) } as unknown as Connection;
  expect(deny.connAccept!(unix)).toBe(true);
  expect(accessControl({ allow: ['127.0.0.1'] }).connAccept!(unix)).toBe(false);
  expect(destroyed[0]).toBeInstanceOf(AccessDeniedError);
  expect(destroyed[0]!.message).toBe('access denied to @');
});

test('a bad entry is a ConfigError naming it', () => {
  expect(() => accessControl({ allow: ['10.0.0.0/33'] })).toThrow(ConfigError);
  expect(() => accessControl({ deny: ['example.com'] })).toThrow('"example.com" is not an IP address or CIDR');
  expect(() => accessControl({ deny: ['::1/129'] })).toThrow(ConfigError);
});
