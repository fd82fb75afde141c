/**
 * Latencies in microseconds, in log-linear buckets: exact below 128 µs, then 64 buckets per
 * power of two (under 1.6 % error), so a long run costs a fixed 2 KiB-ish array, not a sample list.
 */
export class Histogram {
  private readonly counts = new Float64Array(128 + 25 * 64);
  count = 0;
  min = Infinity;
  max = 0;

  record(micros: number): void {
    const v = Math.max(0, Math.min(Math.round(micros), 2 ** 31 - 1));
    this.counts[Histogram.index(v)]++;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  private static index(v: number): number {
    if (v < 128) return v;
    const msb = 31 - Math.clz32(v);
    const shift = msb - 6;
    return 128 + (msb - 7) * 64 + ((v >>> shift) - 64);
  }

  /** The upper edge of bucket `i`, in microseconds. */
  private static upper(i: number): number {
    if (i < 128) return i;
    const msb = 7 + Math.floor((i - 128) / 64);
    const mantissa = 64 + ((i - 128) % 64);
    return ((mantissa + 1) << (msb - 6)) - 1;
  }

  /** The value at percentile `p` (0..100), in microseconds; never above the maximum seen. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(Histogram.upper(i), this.max);
    }
    return this.max;
  }
}
