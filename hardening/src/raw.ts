/**
 * A raw rpcx peer over TCP for hostile-input tests: it writes whatever bytes it is given and
 * hands back the frames the other side answers with, matched by seq.
 */
import { connect, type Socket } from 'node:net';
import { FrameDecoder, Message, encodeMessage } from '@rpcx/protocol';

export class RawPeer {
  private readonly decoder = new FrameDecoder({ maxMessageLength: 0 });
  private readonly waiting = new Map<number, (m: Message) => void>();
  /** Frames nobody waited for (pushes, replies to frames sent with `write`). */
  readonly unmatched: Message[] = [];
  /** Settles when the socket is closed, by either side. */
  readonly closed: Promise<void>;
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => (this.isClosed = true));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.push(chunk, (m) => {
          const waiter = typeof m.seq === 'number' ? this.waiting.get(m.seq) : undefined;
          if (waiter) {
            this.waiting.delete(m.seq as number);
            waiter(m);
          } else {
            this.unmatched.push(m);
          }
        });
      } catch {
        socket.destroy();
      }
    });
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => {
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  /** Writes raw bytes (a frame, part of one, or garbage). */
  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /**
   * Sends `message` and resolves with the reply carrying its seq; rejects when the socket
   * closes first or no reply comes within `timeoutMs`.
   */
  call(message: Message, timeoutMs = 10_000): Promise<Message> {
    const seq = message.seq as number;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(seq);
        reject(new Error(`no reply to seq ${seq} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(seq, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      void this.closed.then(() => {
        if (!this.waiting.delete(seq)) return;
        clearTimeout(timer);
        reject(new Error(`connection closed before the reply to seq ${seq}`));
      });
      this.write(encodeMessage(message));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A request frame as a client would send it. */
export function request(servicePath: string, serviceMethod: string, serializeType: number, payload: Uint8Array, seq: number): Message {
  return new Message({ servicePath, serviceMethod, serializeType, seq, payload });
}
