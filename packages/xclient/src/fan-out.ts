import { CallTimeoutError, MultiError, NoServerError, parseServerKey, type ClientCall, type ClientCallResult } from '@rpcx/core';
import { abortError } from './abort.js';

/** One server's outcome in `inform()`. */
export interface Receipt<R = unknown> {
  /** The server's address, without `network@` (as Go). */
  address: string;
  reply?: R;
  error?: Error;
}

/** What a fan-out call asks of the client. */
export interface FanOutRunner {
  /** The servers listed now. */
  servers(): readonly string[];
  /** Connect to `server` ahead of the call; rejects when it cannot (dial failure, open breaker). */
  connect(server: string, signal: AbortSignal | undefined): Promise<unknown>;
  /** Send `call` to `server`, target `index` of `count`, ending when `signal` aborts. */
  send(call: ClientCall, server: string, index: number, count: number, signal: AbortSignal): Promise<ClientCallResult>;
}

/**
 * `broadcast`, `fork` and `inform` (the call's `kind`), as Go's: every listed server that can
 * be connected to is called in parallel; servers that cannot (dial failure, open breaker) are
 * left out, and when that leaves none the call fails with `NoServerError` ("can not found any
 * server", its `cause` a `MultiError` of the failures). `guardMs` bounds the whole call (Go's
 * one-minute guard; its attempts then fail with `CallTimeoutError` "timeout"); 0 = no guard.
 *
 * - broadcast: resolves with the first reply once every server succeeded; rejects with
 *   `MultiError([error])` at the first failure.
 * - fork: resolves with the first success; rejects with `MultiError` of every failure.
 * - inform: resolves with one `Receipt` per server called, each with its own reply or error.
 */
export async function fanOut(call: ClientCall, runner: FanOutRunner, guardMs: number): Promise<ClientCallResult> {
  const listed = runner.servers();
  if (listed.length === 0) throw new NoServerError();
  const dials = await Promise.allSettled(listed.map((server) => runner.connect(server, call.signal)));
  if (call.signal?.aborted) throw abortError(call.signal);
  const servers = listed.filter((_, i) => dials[i].status === 'fulfilled');
  if (servers.length === 0) {
    throw new NoServerError({ cause: new MultiError(dials.map((d) => (d as PromiseRejectedResult).reason as Error)) });
  }

  const guard = new AbortController();
  const timer = guardMs > 0 ? setTimeout(() => guard.abort(new CallTimeoutError('timeout')), guardMs) : undefined;
  const onAbort = () => guard.abort(call.signal!.reason);
  call.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const sends = servers.map((server, i) => runner.send(call, server, i, servers.length, guard.signal));
    switch (call.kind) {
      case 'broadcast':
        return await everyOne(sends);
      case 'fork':
        return await firstSuccess(sends);
      default:
        return { reply: await receipts(servers, sends), metadata: {} };
    }
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
    // Calls still running (fork after its winner, broadcast after a failure) are cut short.
    guard.abort();
  }
}

function everyOne(sends: Promise<ClientCallResult>[]): Promise<ClientCallResult> {
  return new Promise((resolve, reject) => {
    let first: ClientCallResult | undefined;
    let left = sends.length;
    for (const send of sends) {
      send.then(
        (result) => {
          first ??= result;
          if (--left === 0) resolve(first);
        },
        (error: Error) => reject(new MultiError([error])),
      );
    }
  });
}

async function firstSuccess(sends: Promise<ClientCallResult>[]): Promise<ClientCallResult> {
  try {
    return await Promise.any(sends);
  } catch (err) {
    throw new MultiError((err as AggregateError).errors as Error[]);
  }
}

async function receipts<R>(servers: readonly string[], sends: Promise<ClientCallResult>[]): Promise<Receipt<R>[]> {
  const settled = await Promise.allSettled(sends);
  return settled.map((s, i) => {
    const address = parseServerKey(servers[i]).address;
    return s.status === 'fulfilled' ? { address, reply: s.value.reply as R } : { address, error: s.reason as Error };
  });
}
