// Go's upload rate limit: a token bucket of `rate` bytes that refills at `rate` bytes per
// second and starts full (github.com/juju/ratelimit `NewBucketWithRate(rate, rate)`, as
// XClient.SendFile makes it). Taking more than is there goes into debt and waits it off.
import { Transform, type TransformCallback } from 'node:stream';

/** Bytes let through at a time, so that a slow rate sends small, even pieces. */
const PIECE = 16 * 1024;

export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly rate: number) {
    this.tokens = rate;
  }

  /** Take `n` bytes' worth now; returns the milliseconds to wait before sending them. */
  take(n: number): number {
    const now = performance.now();
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }
}

/** Lets bytes through at no more than `rate` bytes per second (after a first second's burst, as Go). */
export class RateLimiter extends Transform {
  private readonly bucket: TokenBucket;
  private timer: NodeJS.Timeout | undefined;

  constructor(rate: number) {
    super();
    this.bucket = new TokenBucket(rate);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sendFrom(chunk, 0, callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    callback(error);
  }

  private sendFrom(chunk: Buffer, offset: number, callback: TransformCallback): void {
    while (offset < chunk.length) {
      const piece = chunk.subarray(offset, offset + PIECE);
      offset += piece.length;
      const wait = this.bucket.take(piece.length);
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.push(piece);
          this.sendFrom(chunk, offset, callback);
        }, wait);
        return;
      }
      this.push(piece);
    }
    callback();
  }
}
