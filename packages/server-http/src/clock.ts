import { HttpHeadersTimeoutError, HttpRequestTimeoutError } from '@rpcx/core';

/**
 * The deadlines of the request being received on one HTTP connection. Node's http.Server
 * checks its `headersTimeout` and `requestTimeout` only for connections it accepted by
 * listening, and the server's HTTP side never listens, so they are kept here: from a
 * request's first byte its head must be complete within `headersMs` and the whole request
 * (head and body) within `requestMs`. Between requests nothing runs; the server's idle
 * timeout covers a kept-alive connection that sends nothing.
 */
export class RequestClock {
  private headTimer: NodeJS.Timeout | undefined;
  private requestTimer: NodeJS.Timeout | undefined;
  /** A request's bytes have begun and its body has not ended. */
  private receiving = false;
  /** Requests whose head has come and whose response has not finished. */
  private open = 0;

  constructor(
    private readonly headersMs: number,
    private readonly requestMs: number,
    private readonly expire: (error: Error) => void,
  ) {}

  /** A request is being received or answered. */
  get busy(): boolean {
    return this.receiving || this.open > 0;
  }

  /** Bytes arrived: the first of a request starts both clocks. */
  received(): void {
    if (this.receiving || this.open > 0) return;
    this.receiving = true;
    if (this.headersMs > 0) this.headTimer = this.arm(this.headersMs, () => new HttpHeadersTimeoutError(this.headersMs));
    if (this.requestMs > 0) this.requestTimer = this.arm(this.requestMs, () => new HttpRequestTimeoutError(this.requestMs));
  }

  /** A request's head was parsed; `bodyEnd` and `responseDone` follow for it. */
  head(): void {
    if (this.headTimer) clearTimeout(this.headTimer);
    this.headTimer = undefined;
    this.open++;
  }

  bodyEnd(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
    this.receiving = false;
  }

  responseDone(): void {
    this.open--;
  }

  stop(): void {
    if (this.headTimer) clearTimeout(this.headTimer);
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.headTimer = this.requestTimer = undefined;
  }

  private arm(ms: number, error: () => Error): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.stop();
      this.expire(error());
    }, ms);
    timer.unref();
    return timer;
  }
}
