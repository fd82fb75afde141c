// Interceptors wrap every call: `(next) => async (call) => …`, as in connect-es and grpc-js.
// A client interceptor (ClientInterceptor) sees each logical call of an XClient; a server
// interceptor (ServerInterceptor) sees each call a server handles, from any protocol.
import { RateLimitError, type ClientInterceptor, type ServerInterceptor } from '@rpcx/core';

/** Client side: send a request id with every call, in the request metadata. */
export function requestId(newId: () => string = () => crypto.randomUUID()): ClientInterceptor {
  return (next) => (call) => {
    call.metadata['x-request-id'] = newId();
    return next(call);
  };
}

/**
 * Server side: refuse calls without a request id (a thrown error fails the call; the client
 * gets its message), and echo the id back in the response metadata.
 */
export function requireRequestId(): ServerInterceptor {
  return (next) => async (call) => {
    const id = call.metadata['x-request-id'];
    if (!id) throw new Error('missing x-request-id');
    const result = await next(call);
    result.metadata['x-request-id'] = id;
    return result;
  };
}

/** Server side: at most `limit` calls at once; the rest fail with `RateLimitError` (never retried). */
export function concurrencyLimit(limit: number): ServerInterceptor {
  let running = 0;
  return (next) => async (call) => {
    if (running >= limit) throw new RateLimitError(); // "request reached rate limit", as Go
    running++;
    try {
      return await next(call);
    } finally {
      running--;
    }
  };
}
