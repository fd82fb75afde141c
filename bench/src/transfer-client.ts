// One upload (of --file) or download (of --name, dropped as it arrives) with
// @rpcx/file-transfer's client; prints `{"bytes":…,"ms":…}`.
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { downloadFile, sendFile } from '@rpcx/file-transfer';
import { tcpTransport } from '@rpcx/transport-tcp';
import { XClient, peer2peer } from '@rpcx/xclient';

const { values } = parseArgs({ options: { addr: { type: 'string' }, op: { type: 'string' }, file: { type: 'string' }, name: { type: 'string' } } });

const client = new XClient({ servicePath: '_filetransfer', discovery: peer2peer(values.addr!), transports: [tcpTransport()], codecs: [msgpackCodec()] });
const started = performance.now();
const { bytes } =
  values.op === 'upload'
    ? await sendFile(client, values.file!)
    : await downloadFile(client, values.name!, new Writable({ write: (_c, _e, cb) => cb() }));
const ms = performance.now() - started;
await client.close();
console.log(JSON.stringify({ bytes, ms }));
