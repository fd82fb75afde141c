import { ConfigError, SelectMode, type Selector } from '@rpcx/core';
import { closestSelector, type ClosestOptions } from './closest.js';
import { consistentHashSelector, type ConsistentHashOptions } from './consistent-hash.js';
import { networkQualitySelector, type NetworkQualityOptions } from './network-quality.js';
import { randomSelector, roundRobinSelector, type RandomSelectorOptions } from './simple.js';
import { weightedRoundRobinSelector, type WeightedRoundRobinOptions } from './weighted.js';

/** Options for {@link selectorFor}, one entry per selector kind; only the chosen one is read. */
export interface SelectorForOptions {
  random?: RandomSelectorOptions;
  weightedRoundRobin?: WeightedRoundRobinOptions;
  networkQuality?: NetworkQualityOptions;
  consistentHash?: ConsistentHashOptions;
  /** Required for `SelectMode.Closest`. */
  closest?: ClosestOptions;
  /** Required for `SelectMode.SelectByUser`: your selector. */
  selector?: Selector;
}

/**
 * The selector for one of Go's `SelectMode` numbers (for configs and CLIs that use them): the
 * one place where the numbers are mapped. `Closest` needs `options.closest` and
 * `SelectByUser` needs `options.selector`. An unknown number is a `ConfigError` (Go's
 * `newSelector` silently falls back to random, which hides a typo in a config).
 */
export function selectorFor(mode: SelectMode | number, options: SelectorForOptions = {}): Selector {
  switch (mode) {
    case SelectMode.RandomSelect:
      return randomSelector(options.random);
    case SelectMode.RoundRobin:
      return roundRobinSelector();
    case SelectMode.WeightedRoundRobin:
      return weightedRoundRobinSelector(options.weightedRoundRobin);
    case SelectMode.WeightedICMP:
      return networkQualitySelector(options.networkQuality);
    case SelectMode.ConsistentHash:
      return consistentHashSelector(options.consistentHash);
    case SelectMode.Closest:
      if (!options.closest) throw new ConfigError('SelectMode.Closest needs options.closest: { latitude, longitude }');
      return closestSelector(options.closest);
    case SelectMode.SelectByUser:
      if (!options.selector) throw new ConfigError('SelectMode.SelectByUser needs options.selector');
      return options.selector;
    default:
      throw new ConfigError(
        `unknown select mode ${String(mode)}: use a SelectMode (RandomSelect 0, RoundRobin 1, WeightedRoundRobin 2, WeightedICMP 3, ConsistentHash 4, Closest 5, SelectByUser 1000)`,
      );
  }
}
