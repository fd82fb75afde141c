/**
 * @packageDocumentation
 * An in-process transport (Go's `memu`): `memu@name` addresses live in a registry shared by
 * every `memoryTransport()` in the process, so a server and a client in the same process
 * talk without sockets. Bytes are delivered asynchronously, one chunk per write batch, like a
 * real stream, so code tested on it behaves as on TCP; while the reading end is paused, the
 * writer's bytes stay pending on its side, as a full socket buffer would keep them.
 *
 * @module @rpcx/transport-memory
 */
import {
  DialError,
  ListenError,
  DRAIN_NOTICE_BYTES,
  type Connection,
  type ConnectionHandler,
  type Listener,
  type Transport,
} from '@rpcx/core';

type Accept = (c: Connection) => void;
const listeners = new Map<string, Accept>();
let nextPeer = 0;

class MemoryConnection implements Connection {
  readonly network = 'memu';
  peer!: MemoryConnection;
  closed = false;
  private handler: ConnectionHandler | undefined;
  private inbox: Uint8Array[] = [];
  private outbox: Uint8Array[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  private paused = false;
  /** pendingBytes reached DRAIN_NOTICE_BYTES: report onDrain once it is below again. */
  private drainOwed = false;

  constructor(
    readonly localAddress: string,
    readonly remoteAddress: string,
  ) {}

  get pendingBytes(): number {
    return this.outboxBytes;
  }

  setHandler(handler: ConnectionHandler): void {
    this.handler = handler;
    this.drainInbox();
  }

  write(frame: Uint8Array): void {
    if (this.closed) return;
    this.outbox.push(frame);
    this.outboxBytes += frame.length;
    if (this.outboxBytes >= DRAIN_NOTICE_BYTES) this.drainOwed = true;
    this.scheduleFlush();
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    this.drainInbox();
    // The writer kept its bytes while this end was paused.
    if (!this.peer.closed) this.peer.scheduleFlush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    await new Promise((r) => setImmediate(r));
    this.shut(undefined);
  }

  destroy(error?: Error): void {
    this.outbox = [];
    this.outboxBytes = 0;
    this.shut(error);
  }

  receive(chunk: Uint8Array): void {
    this.inbox.push(chunk);
    this.drainInbox();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0 || this.closed || this.peer.paused) return;
    const chunk = this.outbox.length === 1 ? this.outbox[0] : Buffer.concat(this.outbox);
    this.outbox = [];
    this.outboxBytes = 0;
    this.peer.receive(chunk);
    if (this.drainOwed) {
      this.drainOwed = false;
      try {
        this.handler?.onDrain?.();
      } catch (error) {
        this.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private drainInbox(): void {
    if (!this.handler || this.paused) return;
    while (this.inbox.length > 0 && !this.closed) this.handler.onData(this.inbox.shift()!);
  }

  private shut(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.handler?.onClose(error);
    // the other side sees a clean close, as after a FIN
    if (!this.peer.closed) setImmediate(() => this.peer.shut(undefined));
  }
}

/** The in-process transport. Addresses are any name: `memu@arith`. */
export function memoryTransport(): Transport {
  return {
    networks: ['memu'],
    async listen(network, address, _options, onConnection): Promise<Listener> {
      if (listeners.has(address)) throw new ListenError(`memu: address in use: ${address}`);
      listeners.set(address, onConnection);
      return {
        network,
        address,
        async close() {
          if (listeners.get(address) === onConnection) listeners.delete(address);
        },
      };
    },
    async dial(_network, address) {
      const accept = listeners.get(address);
      if (!accept) throw new DialError(`dial memu ${address}: connection refused`);
      const clientName = `client-${++nextPeer}`;
      const client = new MemoryConnection(clientName, address);
      const server = new MemoryConnection(address, clientName);
      client.peer = server;
      server.peer = client;
      accept(server);
      return client;
    },
  };
}
