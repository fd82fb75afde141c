// The TypeScript side-channel server of the throughput benchmark: file transfer whose uploads
// are counted and dropped, and whose downloads are read from --dir. Prints `LISTENING tcp@…`.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { enableFileTransfer, serveDirectory } from '@rpcx/file-transfer';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';

const { values } = parseArgs({ options: { addr: { type: 'string', default: '127.0.0.1:0' }, dir: { type: 'string' } } });

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
const { downloadHandler, downloadAcceptor } = serveDirectory(values.dir!);
await enableFileTransfer(server, {
  downloadHandler,
  downloadAcceptor,
  uploadHandler: (file) => pipeline(file, new Writable({ write: (_c, _e, cb) => cb() })),
});
const listener = await server.listen('tcp', values.addr!);
process.stdout.write(`LISTENING tcp@${listener.address}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
