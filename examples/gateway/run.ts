// The seed article's httpclient.go: a plain HTTP client calls an rpcx service through the HTTP
// gateway on the server's own port. The X-RPCX-* headers say what to call; the body is the
// payload in the codec the SerializeType header names (3, msgpack, here). Any language with an
// HTTP client can do this. The server turns the gateway on with `http: httpGateway()`.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { httpGateway } from '@rpcx/server-http';
import { tcpTransport } from '@rpcx/transport-tcp';
import { ServiceUser, type Reply } from '../member/service.js';

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()], http: httpGateway() });
await server.register(new ServiceUser(), { name: 'ServiceUser' });
const listener = await server.listen('tcp', '127.0.0.1:0');

// The client side needs no rpcx package but a codec for the body.
const cc = msgpackCodec();
const res = await fetch(`http://${listener.address}/`, {
  method: 'POST',
  headers: {
    'X-RPCX-MessageID': '10000',
    'X-RPCX-MessageType': '0',
    'X-RPCX-SerializeType': '3',
    'X-RPCX-ServicePath': 'ServiceUser',
    'X-RPCX-ServiceMethod': 'UserInfo',
  },
  body: cc.encode({ Uid: 999 }),
});
const reply = cc.decode(new Uint8Array(await res.arrayBuffer())) as Reply;
console.log(`HTTP ${res.status}: 999 : ${JSON.stringify(reply)}`);

// A failed call answers with the error text in a header.
const bad = await fetch(`http://${listener.address}/`, {
  method: 'POST',
  headers: { 'X-RPCX-SerializeType': '3', 'X-RPCX-ServicePath': 'ServiceUser', 'X-RPCX-ServiceMethod': 'NoSuchMethod' },
  body: cc.encode({ Uid: 999 }),
});
await bad.arrayBuffer();
console.log(`unknown method: HTTP ${bad.status}, ${bad.headers.get('X-RPCX-MessageStatusType')}: ${bad.headers.get('X-RPCX-ErrorMessage')}`);

await server.shutdown();
console.log('done');
