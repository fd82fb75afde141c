// @rpcx/plugin-access: a deny list checked on accept, for every protocol on the port.
// Linux routes all of 127.0.0.0/8 to loopback, so a client can come from 127.0.0.2.
import { connect } from 'node:net';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { accessControl } from '@rpcx/plugin-access';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { Arith } from './arith.js';

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
const access = accessControl({ allow: ['127.0.0.0/8', '::1'], deny: ['127.0.0.2'] });
await server.use(access);
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: Arith on tcp@${listener.address}, allow 127.0.0.0/8 and ::1, deny 127.0.0.2`);

const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${listener.address}`), transports: [tcpTransport()], codecs: [msgpackCodec()] });
const { C } = await client.call<{ C: number }>('Mul', { A: 6, B: 7 });
console.log(`client from 127.0.0.1: 6 * 7 = ${C}`);

// A raw connection from 127.0.0.2 is closed before anything is read from it.
const port = Number(listener.address.split(':')[1]);
const closed = await new Promise<boolean>((resolve) => {
  const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }, () => socket.write('GET / HTTP/1.1\r\n\r\n'));
  socket.on('data', () => resolve(false));
  socket.on('close', () => resolve(true));
  socket.on('error', () => undefined);
});
console.log(`client from 127.0.0.2: closed by the server: ${closed}; refused so far: ${access.refused}`);

await client.close();
await server.close();
console.log('done');
