import {
  ConfigError,
  type ClientAttempt,
  type ClientAttemptHandler,
  type ClientAttemptInterceptor,
  type ClientCallHandler,
  type ClientCallResult,
  type ClientInterceptor,
  type ClientInterceptors,
  type ClientPlugin,
  type Logger,
} from '@rpcx/core';

/** The `interceptors` option: call interceptors, or `{ calls, attempts }` pairs. */
export type InterceptorList = readonly (ClientInterceptor | ClientInterceptors)[];

/** Both chains built from one list, each ending in its given handler; the first entry is outermost. */
export function buildChains(
  list: InterceptorList,
  lastCall: ClientCallHandler,
  lastAttempt: ClientAttemptHandler,
): { call: ClientCallHandler; attempt: ClientAttemptHandler; hasAttemptInterceptors: boolean; empty: boolean } {
  const calls: ClientInterceptor[] = [];
  const attempts: ClientAttemptInterceptor[] = [];
  for (const entry of list) {
    if (typeof entry === 'function') calls.push(entry);
    else if (typeof entry === 'object' && entry !== null) {
      if (entry.calls) calls.push(entry.calls);
      if (entry.attempts) attempts.push(entry.attempts);
    } else {
      throw new ConfigError('an interceptor is a function (next) => handler, or { calls?, attempts? } of such functions');
    }
  }
  return {
    call: wrap(calls, lastCall),
    attempt: wrap(attempts, lastAttempt),
    hasAttemptInterceptors: attempts.length > 0,
    empty: calls.length === 0 && attempts.length === 0,
  };
}

function wrap<H>(interceptors: readonly ((next: H) => H)[], last: H): H {
  let handler = last;
  for (let i = interceptors.length - 1; i >= 0; i--) handler = interceptors[i](handler);
  return handler;
}

/** Sends an attempt to its server once its connection is there. */
export type Send = (attempt: ClientAttempt) => Promise<ClientCallResult>;

/**
 * Go's `preCall` / `postCall` hooks around `send`, in plugin order: a failing preCall fails
 * the attempt (no postCall then, as in Go); postCall sees the reply or the error, may replace
 * the reply, and its own errors are logged. Undefined when no plugin has either hook.
 */
export function pluginCallHooks(
  plugins: readonly ClientPlugin[],
  logger: Logger,
): ((attempt: ClientAttempt, send: Send) => Promise<ClientCallResult>) | undefined {
  const pre = plugins.filter((p) => p.preCall);
  const post = plugins.filter((p) => p.postCall);
  if (pre.length === 0 && post.length === 0) return undefined;
  return async (attempt, send) => {
    for (const p of pre) await p.preCall!(attempt);
    let result: ClientCallResult | undefined;
    let error: Error | undefined;
    try {
      result = await send(attempt);
    } catch (err) {
      error = err as Error;
    }
    for (const p of post) {
      try {
        const replaced = await p.postCall!(attempt, result?.reply, error);
        if (result && replaced !== undefined) result = { reply: replaced, metadata: result.metadata };
      } catch (err) {
        logger.warn(`rpcx: postCall plugin${p.name ? ` ${p.name}` : ''}: ${(err as Error).message}`);
      }
    }
    if (error) throw error;
    return result!;
  };
}
