import { events, errors, type QUICConnection, type QUICStream } from '@matrixai/quic';
import { ConnectionError } from '@rpcx/core';
import { StreamConnection } from '@rpcx/transport-kit';
import { connectionError, describeClose, type QuicCloseInfo } from './errors.js';

/** Application close codes on the wire: 0 an orderly close, 1 a close after a local error. */
export const CLOSE_OK = 0;
export const CLOSE_ABORT = 1;

export interface QuicConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /** How long `close()` waits for the peer's end of stream, and a peer-closed connection for the peer's CONNECTION_CLOSE. */
  closeTimeoutMs: number;
  /** The QUIC connection underneath. */
  quic: QUICConnection;
  /** The client's stream; on the server it arrives later, with the client's first bytes. */
  stream?: QUICStream;
  /**
   * Ends the QUIC connection with an application close code (CLOSE_OK or CLOSE_ABORT) and
   * releases what it holds (the client's UDP socket). Called once; must not throw.
   */
  teardown: (errorCode: number) => Promise<void>;
}

/**
 * A `Connection` over one bidirectional QUIC stream, as Go rpcx's quic transport uses: the
 * client opens the stream and writes first; the server gets it with those first bytes. The
 * server-side object exists from the handshake on, and writes made before the stream arrives
 * wait for it. The stream handling (write coalescing, which saves a promise, an event and a
 * quiche call per frame; reading; orderly close) is @rpcx/transport-kit's `StreamConnection`.
 *
 * Closing follows TCP's orderly close: `close()` ends the stream (FIN) after the queued
 * writes, keeps reading until the peer ends its side too, and only then closes the QUIC
 * connection, so nothing sent is cut off by the CONNECTION_CLOSE. A peer that ends the stream
 * gets our FIN back at once; the peer that started the close then closes the connection (Go's
 * quic transport never does: after `closeTimeoutMs` this side closes it).
 */
export class QuicConnection extends StreamConnection<QUICStream> {
  readonly #teardown: (errorCode: number) => Promise<void>;

  constructor(options: QuicConnectionOptions) {
    super(options);
    this.#teardown = options.teardown;
    options.quic.addEventListener(events.EventQUICConnectionError.name, this.#onQuicError);
    options.quic.addEventListener(events.EventQUICConnectionStopped.name, this.#onQuicStopped, { once: true });
    if (options.stream) this.attachStream(options.stream);
  }

  protected override endSession(aborted: boolean): void {
    void this.#teardown(aborted ? CLOSE_ABORT : CLOSE_OK);
  }

  protected override refuseStream(stream: QUICStream): void {
    // Go reads one stream per connection; any other is refused.
    stream.cancel(new ConnectionError('rpcx uses one stream per connection'));
  }

  protected override cancelStream(stream: QUICStream, error: Error): void {
    try {
      stream.cancel(error);
    } catch {
      // Already reset or closed.
    }
  }

  protected override streamError(text: string, cause?: unknown): Error {
    return connectionError(this.localAddress, this.remoteAddress, text, cause);
  }

  readonly #onQuicError = (event: Event): void => {
    const detail = (event as events.EventQUICConnectionError).detail;
    const fromPeer = detail instanceof errors.ErrorQUICConnectionPeer || detail instanceof errors.ErrorQUICConnectionPeerTLS;
    // Our own teardown is reported as a local close: nothing to tell.
    if (this.sessionEnded && !fromPeer) return;
    this.markGone();
    if (detail instanceof errors.ErrorQUICConnectionIdleTimeout) {
      // quic-go's words for the same event.
      this.failed(connectionError(this.localAddress, this.remoteAddress, 'timeout: no recent network activity', detail));
    } else {
      const info = (detail as { data?: QuicCloseInfo }).data;
      // A peer closing with application code 0 closed in order (also when it was the
      // server closing a connection on which the client never wrote).
      const clean = fromPeer && info?.isApp && info.errorCode === CLOSE_OK;
      if (!clean) {
        const text = info ? describeClose(info, fromPeer ? 'remote' : 'local') : detail.message;
        this.failed(connectionError(this.localAddress, this.remoteAddress, text, detail));
      }
    }
    this.finish(false);
  };

  readonly #onQuicStopped = (): void => {
    this.markGone();
    this.finish(false);
  };
}
