import { encodeQuery, parseQuery } from '@rpcx/core';

/**
 * go-metrics `Meter.RateMean()`: events marked since the meter started, divided by the
 * seconds since then. Go creates its meters on first use; this one starts with the plugin.
 */
export class RateMeter {
  private count = 0;
  private readonly started = performance.now();

  mark(n = 1): void {
    this.count += n;
  }

  rateMean(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.count / seconds : 0;
  }
}

/**
 * Go `fmt.Sprintf("%.2f", x)`. `toFixed` already rounds the exact binary value, like Go;
 * the two differ only on exact ties (x = k/8), where Go rounds half to even.
 */
export function formatRate(x: number): string {
  if (Number.isFinite(x) && Number.isInteger(x * 8) && !Number.isInteger(x * 4)) {
    const floor = Math.floor(x * 100);
    return ((floor % 2 === 0 ? floor : floor + 1) / 100).toFixed(2);
  }
  return x.toFixed(2);
}

/**
 * What Go's register plugins write back every UpdateInterval: the stored value parsed with
 * `url.ParseQuery`, `calls` and `connections` set, re-encoded with `url.Values.Encode`
 * (keys sorted). Unparseable pairs are dropped, as Go drops them.
 */
export function withRates(value: string, calls: number, connections: number): string {
  const values = parseQuery(value);
  values.set('calls', [formatRate(calls)]);
  values.set('connections', [formatRate(connections)]);
  return encodeQuery(values);
}
