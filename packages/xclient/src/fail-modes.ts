import {
  AbortError,
  CallTimeoutError,
  ClientClosedError,
  CodecError,
  ConfigError,
  FailMode,
  NoServerError,
  RateLimitError,
  ServiceError,
  type ClientCall,
  type ClientCallResult,
} from '@rpcx/core';
import { abortError, sleep } from './abort.js';

/** What a fail mode asks of the client while it runs one call. */
export interface AttemptRunner {
  /**
   * A server for `call`, passing over those in `avoid` while another is available. Throws
   * `NoServerError` when there is none.
   */
  select(call: ClientCall, avoid?: ReadonlySet<string>): string;
  /**
   * Send attempt number `attempt` of `call` to `server` (through the attempt interceptors),
   * ending early when `signal` aborts (default: the call's).
   */
  send(call: ClientCall, server: string, attempt: number, signal?: AbortSignal): Promise<ClientCallResult>;
}

export interface FailModeSettings {
  /** Attempts after the first (Failover, Failtry). */
  retries: number;
  /** Pause between attempts (Failover, Failtry). */
  retryIntervalMs: number;
  /** Failbackup: when to send the backup request. */
  backupLatencyMs: number;
  /** Aborts when the client closes: a pause between attempts ends with `ClientClosedError`. */
  closed: AbortSignal;
}

/** Runs one call to the end, retrying or racing attempts as its fail mode says. */
export type FailModeStrategy = (call: ClientCall, runner: AttemptRunner) => Promise<ClientCallResult>;

/** The strategy of a Go `FailMode` number; any other number is a `ConfigError`. */
export function failModeStrategy(mode: number, settings: FailModeSettings): FailModeStrategy {
  switch (mode) {
    case FailMode.Failfast:
      return failfast;
    case FailMode.Failover:
      return retrying(settings, true);
    case FailMode.Failtry:
      return retrying(settings, false);
    case FailMode.Failbackup:
      return backup(settings);
    default:
      throw new ConfigError(`unknown fail mode ${String(mode)}: use FailMode.Failover (0), Failfast (1), Failtry (2) or Failbackup (3)`);
  }
}

/**
 * Whether a failed attempt may be tried again. Final: a server's answer (`ServiceError`, a
 * reply that does not decode), the caller's abort or deadline, a closed client, bad
 * configuration, and a client-side limiter's `RateLimitError` (retrying at once would defeat
 * it). Everything else (dial and connection failures, an open breaker) is retried.
 */
export function isRetryable(error: Error, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return false;
  return !(
    error instanceof ServiceError ||
    error instanceof CodecError ||
    error instanceof AbortError ||
    error instanceof CallTimeoutError ||
    error instanceof ClientClosedError ||
    error instanceof ConfigError ||
    error instanceof RateLimitError
  );
}

/** Failfast: one attempt. (Not an async function: a plain call passes here, and each async frame costs.) */
const failfast: FailModeStrategy = (call, runner) => {
  try {
    return runner.send(call, runner.select(call), 1);
  } catch (err) {
    return Promise.reject(err);
  }
};

/**
 * Failover (`reselect`) and Failtry: up to `retries` more attempts after a retryable failure,
 * `retryIntervalMs` apart. Failtry stays on the first server; Failover selects again, and
 * unlike Go (which may pick the server that just failed) passes over the servers that failed
 * in this call while another is available.
 */
function retrying(settings: FailModeSettings, reselect: boolean): FailModeStrategy {
  const { retries, retryIntervalMs, closed } = settings;
  return async (call, runner) => {
    let server = runner.select(call);
    let failed: Set<string> | undefined;
    for (let attempt = 1; ; attempt++) {
      let error: Error;
      try {
        return await runner.send(call, server, attempt);
      } catch (err) {
        error = err as Error;
      }
      if (attempt > retries || !isRetryable(error, call.signal)) throw error;
      if (retryIntervalMs > 0) await pause(retryIntervalMs, call.signal, closed);
      if (!reselect) continue;
      (failed ??= new Set()).add(server);
      try {
        server = runner.select(call, failed);
      } catch (selectError) {
        throw selectError instanceof NoServerError ? error : selectError;
      }
    }
  };
}

/** Sleep between attempts; the caller's abort or the client's close ends it early. */
async function pause(ms: number, signal: AbortSignal | undefined, closed: AbortSignal): Promise<void> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  closed.addEventListener('abort', onAbort, { once: true });
  try {
    await sleep(ms, stop.signal);
  } catch {
    throw closed.aborted ? new ClientClosedError() : abortError(signal!);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    closed.removeEventListener('abort', onAbort);
  }
}

/**
 * Failbackup: if the first server has not answered within `backupLatencyMs`, send the call to
 * a second one (another server when there is one); the first answer, even an error, wins, as
 * in Go, and the other request is cancelled (Go cancels its context). Every timer and
 * listener it sets is removed when the call settles.
 */
function backup(settings: FailModeSettings): FailModeStrategy {
  return async (call, runner) => {
    const first = runner.select(call);
    const signal = call.signal;
    // Both requests end with the call: on the caller's abort, and for the loser when one wins.
    const attempts = new AbortController();
    return new Promise<ClientCallResult>((resolve, reject) => {
      let done = false;
      const finish = (error: Error | undefined, result?: ClientCallResult) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        attempts.abort();
        if (error) reject(error);
        else resolve(result!);
      };
      const race = (attempt: Promise<ClientCallResult>) =>
        attempt.then(
          (result) => finish(undefined, result),
          (error: Error) => finish(error),
        );
      const onAbort = () => finish(abortError(signal!));
      const timer = setTimeout(() => {
        let second: string;
        try {
          second = runner.select(call, new Set([first]));
        } catch {
          return; // no server for a backup: the first answer decides
        }
        race(runner.send(call, second, 2, attempts.signal));
      }, settings.backupLatencyMs);
      if (signal?.aborted) return finish(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      race(runner.send(call, first, 1, attempts.signal));
    });
  };
}
