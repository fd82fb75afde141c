import { ConnectionError } from '@rpcx/core';
import { StreamConnection, type BidiStream, type StreamConnectionOptions } from '@rpcx/transport-kit';

/** A WebTransport bidirectional stream, as both the server and the client get it. */
export type WtStream = BidiStream;

/** The session around it: rpcx uses one session per connection, one stream per session. */
export interface WtSession {
  readonly closed: Promise<{ closeCode?: number; reason?: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

export interface WtConnectionOptions extends StreamConnectionOptions {
  session: WtSession;
  /** The client's stream; on the server it is attached when the client opens it. */
  stream?: WtStream;
}

/**
 * A `Connection` over one bidirectional WebTransport stream (the stream handling is
 * @rpcx/transport-kit's `StreamConnection`). Closing is orderly as with TCP: `close()` ends
 * the stream after the queued writes, reads until the peer has ended its side too, and only
 * then closes the session (close code 0), so the session close never cuts off data in flight.
 * A peer that ends its stream gets the end back at once and is left to close the session
 * (after `closeTimeoutMs` this side does).
 */
export class WtConnection extends StreamConnection<WtStream> {
  readonly #session: WtSession;

  constructor(options: WtConnectionOptions) {
    super(options);
    this.#session = options.session;
    options.session.closed.then(
      (info) => this.#onSessionClosed(info.closeCode ?? 0, info.reason ?? ''),
      (error: unknown) => this.#onSessionFailed(error),
    );
    if (options.stream) this.attachStream(options.stream);
  }

  protected override endSession(aborted: boolean): void {
    if (this.gone) return;
    const closeCode = aborted ? 1 : 0;
    try {
      this.#session.close({ closeCode: closeCode, reason: closeCode === 0 ? '' : 'rpcx connection aborted' });
    } catch {
      // Already closing.
    }
  }

  protected override refuseStream(stream: WtStream): void {
    const reason = new ConnectionError('rpcx uses one stream per session');
    void stream.writable.abort(reason).catch(noop);
    void stream.readable.cancel(reason).catch(noop);
  }

  protected override streamError(text: string, cause?: unknown): ConnectionError {
    return new ConnectionError(`webtransport ${this.localAddress || '?'}->${this.remoteAddress || '?'}: ${text}`, { cause });
  }

  #onSessionClosed(code: number, reason: string): void {
    this.markGone();
    if (!this.sessionEnded && code !== 0) this.failed(this.streamError(`session closed by peer with code ${code}${reason ? ` (${reason})` : ''}`));
    this.finish(false);
  }

  #onSessionFailed(error: unknown): void {
    this.markGone();
    if (!this.sessionEnded) this.failed(this.streamError((error as Error)?.message ?? String(error), error));
    this.finish(false);
  }
}

function noop(): void {}
