// The circuit breaker of the seed article: two servers listed, only the first one running.
// Each server gets Go's ConsecCircuitBreaker(2, 30 s): after two failed dials to the missing
// server, calls that pick it fail at once with "breaker open" instead of dialling again,
// while calls that pick the live server go on. Round robin makes the picks alternate.
// Go: option.GenBreaker = func() client.Breaker { return client.NewConsecCircuitBreaker(2, 30*time.Second) }
import { consecutiveBreaker } from '@rpcx/breaker';
import { msgpackCodec } from '@rpcx/codec-msgpack';
import { Server } from '@rpcx/server';
import { roundRobinSelector } from '@rpcx/selector';
import { tcpTransport } from '@rpcx/transport-tcp';
import { FailMode, XClient, multipleServers } from '@rpcx/xclient';
import { ServiceUser, type ServiceUserApi } from '../member/service.js';

const server = new Server({ transports: [tcpTransport()], codecs: [msgpackCodec()] });
await server.register(new ServiceUser(), { name: 'ServiceUser' });
const live = await server.listen('tcp', '127.0.0.1:0');
const down = await freeAddress(); // nothing listens there

const client = new XClient({
  servicePath: 'ServiceUser',
  failMode: FailMode.Failtry,
  retries: 1, // Failtry: one more try on the same server, so the first call to the missing one dials twice
  selector: roundRobinSelector,
  discovery: multipleServers([{ key: `tcp@${live.address}`, value: '' }, { key: `tcp@${down}`, value: '' }]),
  transports: [tcpTransport()],
  codecs: [msgpackCodec()],
  breaker: () => consecutiveBreaker({ failureThreshold: 2, windowMs: 30_000 }),
});
const users = client.typed<ServiceUserApi>();

for (let i = 1; i <= 4; i++) {
  try {
    const user = await users.UserInfo({ Uid: 999 });
    console.log(`call ${i}: ${user.UserName}`);
  } catch (err) {
    console.log(`call ${i}: failed: ${(err as Error).message}`);
  }
}

await client.close();
await server.shutdown();
console.log('done');

/** A loopback address where nothing listens: bind port 0, note it, close it. */
async function freeAddress(): Promise<string> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(`127.0.0.1:${port}`));
    });
  });
}
