// In-process TS servers on real TCP ports for the governance tests: each answers Who.Name
// with its own name and counts the calls it served; they can be killed and restarted on the
// same port.
import { msgpackCodec } from '@rpcx/codec-msgpack';
import type { Metadata, RequestContext } from '@rpcx/core';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';

export const codec = msgpackCodec();
export const transport = tcpTransport();

export interface TestServer {
  name: string;
  key: string;
  calls: number;
  /** The request metadata of every call served, in order. */
  metadata: Metadata[];
  /** Close listener and connections at once, as a crash looks to clients. */
  kill(): Promise<void>;
  /** Listen again on the same port. */
  restart(): Promise<void>;
}

export async function startServer(name: string, behaviour: { delayMs?: number; fail?: boolean } = {}, port = 0): Promise<TestServer> {
  let server: Server;
  const state: TestServer = {
    name,
    key: '',
    calls: 0,
    metadata: [],
    async kill() {
      await server.close();
    },
    async restart() {
      await listen(Number(state.key.split(':').pop()));
    },
  };
  async function listen(p: number) {
    server = new Server({ transports: [transport], codecs: [codec] });
    await server.register(
      {
        async Name(_args: unknown, ctx: RequestContext) {
          state.calls++;
          state.metadata.push({ ...ctx.metadata });
          ctx.responseMetadata.served_by = name;
          if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
          if (behaviour.fail) throw new Error(`${name} fails`);
          return name;
        },
        /** Replies with the args it got. */
        Echo(args: unknown) {
          state.calls++;
          return args;
        },
      },
      { name: 'Who' },
    );
    const l = await server.listen('tcp', `127.0.0.1:${p}`);
    state.key = `tcp@${l.address}`;
  }
  await listen(port);
  return state;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it holds, failing after `timeoutMs` (a loaded machine gets the time it needs). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * A server key nobody listens on, a new one each time. Not the port of a server started and
 * killed: a server of a test running meanwhile in another worker can be given that port (seen
 * once in CI: the "dead" server answered the dial). No test listens below 1024.
 */
let deadPort = 900;
export async function deadServerKey(): Promise<string> {
  return `tcp@127.0.0.1:${deadPort++}`;
}
