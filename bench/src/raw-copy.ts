// The limit of the throughput benchmark: the same file sent over a plain Node TCP socket to
// another Node process that drops it, with the same stream plumbing as @rpcx/file-transfer
// (an fs read stream of 1 MiB chunks piped into the socket) and none of rpcx. `--serve` prints `LISTENING tcp@…` and receives;
// `--addr … --file …` sends and prints `{"bytes":…,"ms":…}` once the receiver has closed.
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { serve: { type: 'boolean' }, addr: { type: 'string' }, file: { type: 'string' } } });

if (values.serve) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('end', () => socket.end());
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`LISTENING tcp@127.0.0.1:${(server.address() as net.AddressInfo).port}\n`));
  process.once('SIGTERM', () => process.exit(0));
  process.once('SIGINT', () => process.exit(0));
} else {
  const [host, port] = values.addr!.replace(/^tcp@/, '').split(':');
  const started = performance.now();
  const socket = net.connect({ host, port: Number(port) });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await pipeline(createReadStream(values.file!, { highWaterMark: 1024 * 1024 }), socket);
  await closed;
  console.log(JSON.stringify({ bytes: socket.bytesWritten, ms: performance.now() - started }));
}
