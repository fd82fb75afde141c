import { AbortError, CallTimeoutError, TimeoutError } from '@rpcx/core';

/**
 * The error a call ends with when `signal` aborts: the reason itself when it is one of our
 * timeouts, `CallTimeoutError` for `AbortSignal.timeout()`, else `AbortError` (cause: the reason).
 */
export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof TimeoutError) return reason;
  if (reason instanceof DOMException && reason.name === 'TimeoutError') return new CallTimeoutError('call timeout', { cause: reason });
  return new AbortError({ cause: reason });
}

/** `promise`, or the abort error as soon as `signal` aborts; the listener goes when either settles. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Wait `ms`, or reject with the abort error when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  const wait = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
  });
  return signal ? untilAborted(wait, signal) : wait;
}
