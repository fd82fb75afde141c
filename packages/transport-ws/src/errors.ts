import { ConnectionError, DialError, ListenError } from '@rpcx/core';

/** The strerror texts Go prints for the errors a dial or listen commonly meets. */
const errnoText: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
};

interface NodeError extends Error {
  code?: string;
  syscall?: string;
  errors?: NodeError[];
}

function codeOf(error: NodeError): string | undefined {
  return error.code ?? error.errors?.find((e) => e.code)?.code;
}

/**
 * A failed WebSocket dial, worded as Go's websocket.DialError:
 * `websocket.Dial ws://127.0.0.1:1/_rpcx_: dial tcp 127.0.0.1:1: connect: connection refused`.
 */
export function wsDialError(url: string, address: string, error: Error): ConnectionError {
  const e = error as NodeError;
  const code = codeOf(e);
  let text: string;
  if (code && errnoText[code]) text = `dial tcp ${address}: ${e.syscall ?? 'connect'}: ${errnoText[code]}`;
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') text = `dial tcp ${address}: lookup ${e.message.split(' ').pop()}: no such host`;
  else text = e.message;
  return new DialError(`websocket.Dial ${url}: ${text}`, { cause: error });
}

/** Go: `listen tcp 127.0.0.1:8972: bind: address already in use`. */
export function listenError(address: string, error: Error): ConnectionError {
  const code = codeOf(error as NodeError);
  const text = code && errnoText[code] ? `bind: ${errnoText[code]}` : error.message;
  return new ListenError(`listen tcp ${address}: ${text}`, { cause: error });
}
