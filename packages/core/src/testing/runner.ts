import assert from 'node:assert/strict';
import { ConfigError } from '../errors.js';

/**
 * The two functions of a test framework the compliance suites use. jest and vitest have them
 * as globals (the default); `nodeTestRunner` adapts `node:test`; anything else adapts in two
 * lines.
 */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  test(name: string, body: () => void | Promise<void>, timeoutMs: number): void;
}

/** Adapts `node:test` (pass the module: `nodeTestRunner(await import('node:test'))`). */
export function nodeTestRunner(nodeTest: {
  describe: (name: string, fn: () => void) => unknown;
  test: (name: string, options: { timeout?: number }, fn: () => void | Promise<void>) => unknown;
}): TestRunner {
  return {
    describe: (name, body) => void nodeTest.describe(name, body),
    test: (name, body, timeoutMs) => void nodeTest.test(name, { timeout: timeoutMs }, body),
  };
}

/** The global `describe` and `test` (or `it`) of jest, vitest or mocha; a ConfigError where there are none. */
export function globalRunner(suite: string): TestRunner {
  const g = globalThis as unknown as {
    describe?: (name: string, fn: () => void) => void;
    test?: (name: string, fn: () => void | Promise<void>, timeout?: number) => void;
    it?: (name: string, fn: () => void | Promise<void>, timeout?: number) => void;
  };
  const test = g.test ?? g.it;
  if (!g.describe || !test) throw new ConfigError(`${suite}: no global describe/test here; pass \`runner\``);
  return { describe: g.describe, test: (name, body, timeoutMs) => test(name, body, timeoutMs) };
}

/** What `fn` throws; fails (an `AssertionError`) when it throws nothing. */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a throw');
}
