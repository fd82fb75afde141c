import { AbortError, type Connection, type DialOptions } from '@rpcx/core';
import { dialTimeoutError } from './errors.js';

/** A transport factory's `connectTimeoutMs` when not given: 1 s, Go's `ConnectTimeout` in rpcx's examples. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;

/** Where a dial goes, and the transport's own limit for it. */
export interface DialTarget {
  network: string;
  address: string;
  /**
   * The transport factory's `connectTimeoutMs`: the limit of a dial whose options give no
   * `timeoutMs`. 0 (or Infinity) waits forever.
   */
  connectTimeoutMs: number;
}

/**
 * Runs one dial and settles it once: with the connection `connect` makes; with its error;
 * with a `DialTimeoutError` (`dial NETWORK ADDRESS: i/o timeout`, Go's words) once the dial's
 * `timeoutMs` (else the target's `connectTimeoutMs`) has passed; or with an `AbortError` when
 * the dial's signal fires (at once when it already has). `connect` gets a signal that fires
 * when the dial has given up for any of these reasons: it then stops and releases what it
 * made. A connection it still delivers afterwards is destroyed, and a later error is ignored.
 */
export function dialWithDeadline<C extends Connection>(
  target: DialTarget,
  options: DialOptions,
  connect: (signal: AbortSignal) => Promise<C>,
): Promise<C> {
  const { network, address } = target;
  const { timeoutMs = target.connectTimeoutMs, signal } = options;
  if (signal?.aborted) return Promise.reject(new AbortError({ cause: signal.reason }));
  const givenUp = new AbortController();
  return new Promise<C>((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = (error: Error | undefined, connection?: C) => {
      if (settled) {
        connection?.destroy();
        return;
      }
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        givenUp.abort(error);
        reject(error);
      } else {
        resolve(connection!);
      }
    };
    const onAbort = () => settle(new AbortError({ cause: signal!.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) timer = setTimeout(() => settle(dialTimeoutError(network, address)), timeoutMs);
    let made: Promise<C>;
    try {
      made = connect(givenUp.signal);
    } catch (error) {
      settle(error as Error);
      return;
    }
    made.then(
      (connection) => settle(undefined, connection),
      (error: Error) => settle(error),
    );
  });
}
