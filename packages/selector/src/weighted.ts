import type { SelectRequest, Selector } from '@rpcx/core';
import { parseWeight } from './metadata.js';

/** Default largest total weight for which the whole sequence is precomputed. */
export const DEFAULT_MAX_RING_SIZE = 65536;

/**
 * Smooth weighted round robin (nginx's, without effective-weight adjustment), as Go rpcx
 * runs it: each step adds every server's weight to its current weight, picks the first
 * server whose current weight is strictly greater than the running maximum (which starts at
 * 0), and subtracts the total weight from the winner.
 *
 * The sequence repeats every `total` steps, so Go precomputes one period as a ring. We do the
 * same while the total is at most `maxRingSize` (select is then an array read); above it each
 * select runs one step in O(n) instead, which yields the same sequence without a huge ring.
 * Either way a select allocates nothing.
 */
export class SmoothWeighted {
  private keys: string[] = [];
  private weights = new Float64Array(0);
  private current = new Float64Array(0);
  private total = 0;
  private ring: Int32Array | undefined;
  private pos = 0;
  private readonly maxRingSize: number;

  constructor(maxRingSize = DEFAULT_MAX_RING_SIZE) {
    this.maxRingSize = maxRingSize;
  }

  /** Replace the servers and weights; the sequence restarts from its beginning, as in Go. */
  reset(keys: readonly string[], weights: readonly number[]): void {
    const n = keys.length;
    this.keys = keys.slice();
    this.weights = new Float64Array(n);
    this.current = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i] > 0 ? weights[i] : 0;
      this.weights[i] = w;
      total += w;
    }
    this.total = total;
    this.pos = 0;
    this.ring = undefined;
    if (total > 0 && total <= this.maxRingSize) {
      const ring = new Int32Array(total);
      for (let i = 0; i < total; i++) ring[i] = this.step();
      this.ring = ring;
    }
  }

  /** The next server, or undefined when no server has a positive weight (Go panics there). */
  next(): string | undefined {
    const ring = this.ring;
    if (ring !== undefined) {
      const i = ring[this.pos];
      this.pos = this.pos + 1 === ring.length ? 0 : this.pos + 1;
      return this.keys[i];
    }
    if (this.total <= 0) return undefined;
    return this.keys[this.step()];
  }

  private step(): number {
    const { weights, current } = this;
    let best = 0;
    let max = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > max) {
        max = current[i];
        best = i;
      }
    }
    current[best] -= this.total;
    return best;
  }
}

export interface WeightedRoundRobinOptions {
  /**
   * Largest total weight for which one period of the sequence is precomputed (memory: 4 bytes
   * per unit of weight). Above it each select costs O(servers). Default 65536.
   */
  maxRingSize?: number;
}

/**
 * Go's `WeightedRoundRobin` (SelectMode 2): smooth weighted round robin over the `weight`
 * metadata (integer, default 1, invalid → 1; 0 or negative → never selected). Servers are
 * taken in the order of the map given to `updateServers`; every update restarts the sequence.
 */
export function weightedRoundRobinSelector(options: WeightedRoundRobinOptions = {}): Selector {
  const engine = new SmoothWeighted(options.maxRingSize);
  return {
    select(_request: SelectRequest): string | undefined {
      return engine.next();
    },
    updateServers(servers: ReadonlyMap<string, string>): void {
      const keys: string[] = [];
      const weights: number[] = [];
      for (const [key, metadata] of servers) {
        keys.push(key);
        weights.push(parseWeight(metadata));
      }
      engine.reset(keys, weights);
    },
  };
}
