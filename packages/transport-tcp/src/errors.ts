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
  ECONNRESET: 'connection reset by peer',
  ECONNABORTED: 'software caused connection abort',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EMFILE: 'too many open files',
  EINVAL: 'invalid argument',
};

interface NodeError extends Error {
  code?: string;
  syscall?: string;
  errors?: NodeError[];
}

/** Node's own code, or the first one inside the AggregateError of a happy-eyeballs dial. */
function codeOf(error: NodeError): string | undefined {
  return error.code ?? error.errors?.find((e) => e.code)?.code;
}

/** `connect: connection refused`, `read: connection reset by peer`, … as Go words them. */
export function socketErrorText(error: Error): string {
  const e = error as NodeError;
  const code = codeOf(e);
  const text = code ? errnoText[code] : undefined;
  if (!text) return e.message;
  return e.syscall ? `${e.syscall}: ${text}` : text;
}

/** A failed dial as a ConnectionError, e.g. `dial tcp 127.0.0.1:1: connect: connection refused`. */
export function dialError(network: string, address: string, host: string | undefined, error: Error): ConnectionError {
  const e = error as NodeError;
  const code = codeOf(e);
  let text: string;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') {
    text = `lookup ${host}: no such host`;
  } else if (code?.startsWith('ERR_SSL') || code?.startsWith('ERR_TLS') || e.message.includes('certificate')) {
    // TLS failures keep Node's description; Go's differ too much to reproduce.
    text = `tls: ${e.message}`;
  } else {
    text = socketErrorText(e);
  }
  return new DialError(`dial ${network} ${address}: ${text}`, { cause: error });
}

/** Go: `dial tcp 127.0.0.1:1: i/o timeout`. */
export function dialTimeoutError(network: string, address: string): TimeoutError {
  return new DialTimeoutError(`dial ${network} ${address}: i/o timeout`);
}

/** Go: `listen tcp 127.0.0.1:8972: bind: address already in use`. */
export function listenError(network: string, address: string, error: Error): ConnectionError {
  const code = codeOf(error as NodeError);
  // Node names the failing call `listen`; the errno comes from bind(2), which Go names.
  const text = code && errnoText[code] ? `bind: ${errnoText[code]}` : error.message;
  return new ListenError(`listen ${network} ${address}: ${text}`, { cause: error });
}
