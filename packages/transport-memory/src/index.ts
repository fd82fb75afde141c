/**
 * @packageDocumentation
 * An in-process transport (Go's `memu`): `memu@name` addresses live in a registry shared by
 * every `memoryTransport()` in the process, so a server and a client in the same process
 * talk without sockets. Bytes are delivered asynchronously, one chunk per write batch, like a
 * real stream, so code tested on it behaves as on TCP; while the reading end is paused (or has
 * no handler yet), the writer's bytes stay pending on its side, as a full socket buffer would
 * keep them. The connection life cycle is `@rpcx/transport-kit`'s `AbstractConnection`.
 *
 * @module @rpcx/transport-memory
 */
import { ConnectionError, ListenError, type Connection, type DialOptions, type Listener, type Transport } from '@rpcx/core';
import { AbstractConnection, checkNetwork, concatBytes, DEFAULT_CLOSE_TIMEOUT_MS, dialError, dialWithDeadline } from '@rpcx/transport-kit';

type Accept = (c: Connection) => void;
const listeners = new Map<string, Accept>();
let nextPeer = 0;

const NETWORKS = ['memu'] as const;
const PACKAGE = '@rpcx/transport-memory';

export interface MemoryTransportOptions {
  /** How long `Connection.close()` waits for a paused peer to take what was written before dropping it. Default 5000. */
  closeTimeoutMs?: number;
}

/** One end of an in-process pipe. */
class MemoryConnection extends AbstractConnection {
  peer!: MemoryConnection;
  /** Written, not yet taken by the peer. */
  #outbox: Uint8Array[] = [];
  #outboxBytes = 0;
  #deliveryScheduled = false;
  /** The peer reads (its owner set a handler and has not paused it). */
  #reading = false;
  /** close(): end of stream once the outbox is empty. */
  #finSent = false;
  #ending = false;

  protected override get bufferedBytes(): number {
    return this.#outboxBytes;
  }

  protected override sendFrames(frames: Uint8Array[], bytes: number): void {
    this.#outbox.push(...frames);
    this.#outboxBytes += bytes;
    // Already a turn after the writes (the flush runs in setImmediate): deliver now.
    this.#deliver();
  }

  protected override startInput(): void {
    this.#reading = true;
    // The writer kept its bytes while this end did not read.
    this.peer.#scheduleDelivery();
  }

  protected override stopInput(): void {
    this.#reading = false;
  }

  protected override endOutput(): void {
    this.#ending = true;
    this.#scheduleDelivery();
  }

  protected override abort(): void {
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.ended();
    // The other side sees a clean close, as after a FIN.
    setImmediate(() => this.peer.#peerClosed());
  }

  #scheduleDelivery(): void {
    if (this.#deliveryScheduled) return;
    this.#deliveryScheduled = true;
    setImmediate(() => {
      this.#deliveryScheduled = false;
      this.#deliver();
    });
  }

  /** Hands the outbox to the peer when it reads, then the end of stream after close(). */
  #deliver(): void {
    if (this.isEnded) return;
    const peer = this.peer;
    if (this.#outbox.length > 0) {
      if (!peer.#reading || peer.isEnded) return;
      const chunk = this.#outbox.length === 1 ? this.#outbox[0] : concatBytes(this.#outbox, this.#outboxBytes);
      this.#outbox = [];
      this.#outboxBytes = 0;
      peer.received(chunk);
      this.checkDrain();
    }
    if (this.#ending && !this.#finSent) {
      this.#finSent = true;
      // As TCP without half-open mode: the peer answers the end of stream with its own.
      peer.#peerClosed();
      this.ended();
    }
  }

  /** The peer closed (or is gone): this end is over too, cleanly. */
  #peerClosed(): void {
    if (this.isEnded) return;
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.ended();
  }

  /** Connects two ends. */
  static pair(clientName: string, serverName: string, closeTimeoutMs: number): [MemoryConnection, MemoryConnection] {
    // Flushes and reports run in setImmediate, as a socket's would come from the poll phase:
    // two ends writing to each other cannot starve timers and I/O. No early send: it would
    // deliver inside the writer's write (sendFrames hands the bytes over at once).
    const common = { network: 'memu', closeTimeoutMs, schedule: setImmediate, earlySend: false };
    const client = new MemoryConnection({ ...common, localAddress: clientName, remoteAddress: serverName });
    const server = new MemoryConnection({ ...common, localAddress: serverName, remoteAddress: clientName });
    client.peer = server;
    server.peer = client;
    return [client, server];
  }
}

/** The in-process transport. Addresses are any name: `memu@arith`. */
export function memoryTransport(options: MemoryTransportOptions = {}): Transport {
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  return {
    networks: NETWORKS,
    async listen(network, address, onConnection): Promise<Listener> {
      checkNetwork(PACKAGE, NETWORKS, network);
      if (listeners.has(address)) throw new ListenError(`listen memu ${address}: address already in use`);
      listeners.set(address, onConnection);
      return {
        network,
        address,
        async close() {
          if (listeners.get(address) === onConnection) listeners.delete(address);
        },
      };
    },
    async dial(network, address, dialOptions: DialOptions = {}) {
      checkNetwork(PACKAGE, NETWORKS, network);
      // Nothing to wait for: a dial succeeds or is refused at once.
      return dialWithDeadline({ network, address, connectTimeoutMs: 0 }, dialOptions, async () => {
        const accept = listeners.get(address);
        if (!accept) throw dialError(network, address, 'connection refused', new ConnectionError(`no listener at memu@${address}`));
        const [client, server] = MemoryConnection.pair(`client-${++nextPeer}`, address, closeTimeoutMs);
        accept(server);
        return client;
      });
    },
  };
}
