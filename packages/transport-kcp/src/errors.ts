import {
  ConnectionError,
  TimeoutError,
  DialError,
  DialTimeoutError,
  ListenError,
} from '@rpcx/core';

/** The strerror texts Go prints, so a failure reads the same from a Go and a Node peer. */
const errnoText: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EINVAL: 'invalid argument',
  EMSGSIZE: 'message too long',
};

interface NodeError extends Error {
  code?: string;
  syscall?: string;
}

/** Go's name of the failing call: `read` for recvmsg, `write` for send. */
function operation(error: NodeError): string | undefined {
  if (error.syscall === 'recvmsg' || error.syscall === 'recv') return 'read';
  if (error.syscall === 'sendmsg' || error.syscall === 'send') return 'write';
  return error.syscall;
}

/** `read: connection refused`, … as Go words them. */
export function socketErrorText(error: Error): string {
  const e = error as NodeError;
  const text = e.code ? errnoText[e.code] : undefined;
  if (!text) return e.message;
  const op = operation(e);
  return op ? `${op}: ${text}` : text;
}

/** An open conversation's socket failed: `read kcp 127.0.0.1:5000->127.0.0.1:8972: connection refused`. */
export function connectionError(local: string, remote: string, error: Error): ConnectionError {
  const e = error as NodeError;
  const text = (e.code && errnoText[e.code]) || e.message;
  return new ConnectionError(`${operation(e) ?? 'read'} kcp ${local}->${remote}: ${text}`, { cause: error });
}

/** A failed dial, e.g. `dial kcp 127.0.0.1:1: read: connection refused`. */
export function dialError(address: string, error: Error | string): ConnectionError {
  const text = typeof error === 'string' ? error : socketErrorText(error);
  return new DialError(`dial kcp ${address}: ${text}`, typeof error === 'string' ? undefined : { cause: error });
}

/** Go: `dial tcp 127.0.0.1:1: i/o timeout`, for kcp. */
export function dialTimeoutError(address: string): TimeoutError {
  return new DialTimeoutError(`dial kcp ${address}: i/o timeout`);
}

/** Go: `listen udp 127.0.0.1:8972: bind: address already in use`, for kcp. */
export function listenError(address: string, error: Error): ConnectionError {
  const code = (error as NodeError).code;
  const text = code && errnoText[code] ? `bind: ${errnoText[code]}` : error.message;
  return new ListenError(`listen kcp ${address}: ${text}`, { cause: error });
}
