// An alias on a real TCP server: a request for the alias runs the real method, the method
// sees Go's `__aliasAppliedKey`, and the response frame names the alias the client asked for.
import { connect } from 'node:net';
import { jsonCodec } from '@rpcx/codec-json';
import { ConfigError, SerializeType, type RequestContext } from '@rpcx/core';
import { FrameDecoder, Message, encodeMessage } from '@rpcx/protocol';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { ALIAS_APPLIED_KEY, aliasPlugin } from '../src/index.js';

class Arith {
  Mul(a: { A: number; B: number }, ctx: RequestContext) {
    return { C: a.A * a.B, Alias: ctx.metadata[ALIAS_APPLIED_KEY] ?? '' };
  }
}

async function serve() {
  const server = new Server({ transports: [tcpTransport()], codecs: [jsonCodec()] });
  await server.register(new Arith());
  await server.use(aliasPlugin().alias('Calc', 'Times', 'Arith', 'Mul').alias('Legacy', 'Multiply', 'Arith', 'Mul'));
  const listener = await server.listen('tcp', '127.0.0.1:0');
  return { server, address: listener.address };
}

/** Send one JSON request frame and decode the response frame. */
function exchange(address: string, servicePath: string, serviceMethod: string, args: unknown): Promise<Message> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const decoder = new FrameDecoder();
    socket.setTimeout(5000, () => socket.destroy(new Error('no response in 5 s')));
    socket.on('data', (chunk) =>
      decoder.push(chunk, (m) => {
        socket.destroy();
        resolve(m);
      }),
    );
    socket.on('error', reject);
    const req = new Message({ seq: 7, servicePath, serviceMethod, serializeType: SerializeType.JSON, payload: Buffer.from(JSON.stringify(args)) });
    socket.write(encodeMessage(req));
  });
}

test('the alias runs the real method, which sees __aliasAppliedKey; the response frame names the alias asked for', async () => {
  const { server, address } = await serve();
  try {
    const calc = await exchange(address, 'Calc', 'Times', { A: 6, B: 7 });
    expect([calc.isResponse, calc.seq, calc.servicePath, calc.serviceMethod]).toEqual([true, 7, 'Calc', 'Times']);
    expect(JSON.parse(Buffer.from(calc.payload).toString())).toEqual({ C: 42, Alias: 'true' });
    // Two aliases of one method: each reply names its own (Go's reverse map would name only the last).
    const legacy = await exchange(address, 'Legacy', 'Multiply', { A: 2, B: 3 });
    expect([legacy.servicePath, legacy.serviceMethod]).toEqual(['Legacy', 'Multiply']);
    // The real name still works, without the marker.
    const real = await exchange(address, 'Arith', 'Mul', { A: 2, B: 5 });
    expect([real.servicePath, real.serviceMethod]).toEqual(['Arith', 'Mul']);
    expect(JSON.parse(Buffer.from(real.payload).toString())).toEqual({ C: 10, Alias: '' });
  } finally {
    await server.close();
  }
});

test('an XClient calls the alias as if it were a service', async () => {
  const { server, address } = await serve();
  const client = new XClient({
    servicePath: 'Calc',
    discovery: peer2peer(`tcp@${address}`),
    transports: [tcpTransport()],
    codecs: [jsonCodec()],
    serializeType: SerializeType.JSON,
  });
  try {
    expect(await client.call('Times', { A: 4, B: 5 })).toEqual({ C: 20, Alias: 'true' });
    await expect(client.call('Divide', { A: 4, B: 5 })).rejects.toThrow("rpcx: can't find service Calc");
  } finally {
    await client.close();
    await server.close();
  }
});

test('empty names are a ConfigError', () => {
  expect(() => aliasPlugin().alias('', 'X', 'Arith', 'Mul')).toThrow(ConfigError);
});
