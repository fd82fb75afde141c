// A transport: `Transport` from @rpcx/core (listen, dial, and the `Connection`s they give).
// This one connects a client and a server in the same process through a pair of web streams,
// network `pipe`, address a name shaped as `host:port` (`pipe@orders:1`: @rpcx/registry-kit
// accepts only `host:port` addresses outside unix, memu and rdma). The `Connection` comes from
// @rpcx/transport-kit's `StreamConnection`, which does the buffering, write coalescing,
// pause/resume and orderly close over any `{ readable, writable }` stream; a transport over a
// library that hands out such streams (QUIC, WebTransport) supplies only how its session ends.
import { ConnectionError, ListenError, type Connection, type Listener, type Transport } from '@rpcx/core';
import { dialError, dialWithDeadline, StreamConnection, type BidiStream } from '@rpcx/transport-kit';

class PipeConnection extends StreamConnection {
  peer: PipeConnection | undefined;

  /** The other end has ended the session: this end is gone too. */
  peerEnded(): void {
    if (this.sessionEnded) return;
    this.markGone();
    this.finish(false);
  }

  protected endSession(): void {
    const peer = this.peer;
    this.peer = undefined;
    if (peer) queueMicrotask(() => peer.peerEnded());
  }

  protected refuseStream(stream: BidiStream): void {
    void stream.readable.cancel();
  }

  protected streamError(text: string, cause?: unknown): Error {
    return new ConnectionError(`pipe: ${text}`, { cause });
  }
}

/** Listeners of every `pipeTransport()` in this process, by name. */
const listeners = new Map<string, (connection: Connection) => void>();
let nextClient = 0;

export interface PipeTransportOptions {
  /** How long `close()` waits for the other end to finish. Default 1000 ms. */
  closeTimeoutMs?: number;
}

export function pipeTransport(options: PipeTransportOptions = {}): Transport {
  const closeTimeoutMs = options.closeTimeoutMs ?? 1000;
  return {
    networks: ['pipe'],

    async listen(network, name, onConnection): Promise<Listener> {
      if (listeners.has(name)) throw new ListenError(`listen pipe ${name}: address already in use`);
      listeners.set(name, onConnection);
      return {
        network,
        address: name,
        async close() {
          if (listeners.get(name) === onConnection) listeners.delete(name);
        },
      };
    },

    // dialWithDeadline: the dial's signal and timeoutMs, settled once (a pipe dial never waits).
    dial: (network, name, dialOptions = {}) =>
      dialWithDeadline({ network, address: name, connectTimeoutMs: 0 }, dialOptions, async (): Promise<Connection> => {
        const accept = listeners.get(name);
        if (!accept) throw dialError(network, name, 'connection refused', new ConnectionError(`no pipe listens at ${name}`));
        const clientName = `client-${++nextClient}`;
        const toServer = new TransformStream<Uint8Array, Uint8Array>();
        const toClient = new TransformStream<Uint8Array, Uint8Array>();
        const client = new PipeConnection({ network, remoteAddress: name, localAddress: clientName, closeTimeoutMs });
        const server = new PipeConnection({ network, remoteAddress: clientName, localAddress: name, closeTimeoutMs });
        client.peer = server;
        server.peer = client;
        client.attachStream({ readable: toClient.readable, writable: toServer.writable });
        server.attachStream({ readable: toServer.readable, writable: toClient.writable });
        accept(server);
        return client;
      }),
  };
}
