/** A timer that never keeps the process alive. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** Retry delays: `firstMs` doubling up to `maxMs`. */
export class Backoff {
  private failures = 0;
  constructor(
    private readonly firstMs = 250,
    private readonly maxMs = 5000,
  ) {}

  /** The delay before the next try; each call doubles the following one. */
  next(): number {
    return Math.min(this.firstMs * 2 ** this.failures++, this.maxMs);
  }

  reset(): void {
    this.failures = 0;
  }
}
