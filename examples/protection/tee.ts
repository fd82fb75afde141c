// @rpcx/plugin-tee: every byte the server reads, copied to a stream (here: kept in memory and
// summarised; a file stream works the same way).
import { Writable } from 'node:stream';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { teePlugin } from '@rpcx/plugin-tee';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';
import { Arith } from './arith.js';

const copied: Buffer[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    copied.push(chunk);
    done();
  },
});

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
const tee = teePlugin(sink, { highWaterMark: 64 * 1024 });
await server.use(tee);
await server.register(new Arith());
const listener = await server.listen('tcp', '127.0.0.1:0');
console.log(`server: Arith on tcp@${listener.address}, teeing what it reads`);

const client = new XClient({ servicePath: 'Arith', discovery: peer2peer(`tcp@${listener.address}`), transports: [tcpTransport()], codecs: [msgpackCodec()] });
await client.call('Mul', { A: 6, B: 7 });
await client.close();
await server.close();

const bytes = Buffer.concat(copied);
console.log(`tee: ${tee.copiedBytes} bytes copied, ${tee.droppedBytes} dropped; first byte 0x${bytes[0].toString(16).padStart(2, '0')} (rpcx magic); names Arith.Mul: ${bytes.includes('Arith') && bytes.includes('Mul')}`);
console.log('done');
