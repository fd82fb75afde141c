/**
 * Go's words for failed dials and listens, so a failure reads the same from a Go and a Node
 * peer. No Node API: the errors are read by their `code` and `syscall` fields only.
 */
import { DialError, DialTimeoutError, ListenError } from '@rpcx/core';

/** The strerror texts Go prints for the errno codes Node reports. */
const GO_ERRNO_TEXT: Readonly<Record<string, string>> = {
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
  EMSGSIZE: 'message too long',
};

interface SystemError {
  code?: unknown;
  syscall?: unknown;
  hostname?: unknown;
  message?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/**
 * The errno code of a Node system error: its own, the first inside the AggregateError of a
 * happy-eyeballs dial, or one in its `cause` chain (libraries wrap them).
 */
export function errnoOf(error: unknown): string | undefined {
  const e = error as SystemError | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors)) {
    for (const inner of e.errors) {
      const code = errnoOf(inner);
      if (code) return code;
    }
  }
  return e?.cause ? errnoOf(e.cause) : undefined;
}

/** Go's text for an errno code (`ECONNREFUSED` → `connection refused`), if it has one. */
export function goErrnoText(code: string | undefined): string | undefined {
  return code === undefined ? undefined : GO_ERRNO_TEXT[code];
}

/** Go's name of the system call: `read` for recvmsg, `write` for sendmsg, … */
export function goSyscall(error: unknown): string | undefined {
  const syscall = (error as SystemError | undefined)?.syscall;
  if (typeof syscall !== 'string') return undefined;
  if (syscall === 'recvmsg' || syscall === 'recv') return 'read';
  if (syscall === 'sendmsg' || syscall === 'send') return 'write';
  return syscall;
}

function messageOf(error: unknown): string {
  const message = (error as SystemError | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : String(error);
}

/** `connect: connection refused`, `read: connection reset by peer`, … as Go words them; else the message. */
export function socketErrorText(error: unknown): string {
  const text = goErrnoText(errnoOf(error));
  if (!text) return messageOf(error);
  const op = goSyscall(error);
  return op ? `${op}: ${text}` : text;
}

/**
 * What went wrong in a dial, in Go's words: `lookup HOST: no such host`, `tls: …` (Node's
 * description: Go's differs too much to reproduce), or `socketErrorText`.
 */
export function dialFailureText(error: unknown): string {
  const code = errnoOf(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') {
    const host = (error as SystemError).hostname;
    return `lookup ${typeof host === 'string' ? host : '?'}: no such host`;
  }
  if (code?.startsWith('ERR_SSL') || code?.startsWith('ERR_TLS') || messageOf(error).includes('certificate')) {
    return `tls: ${messageOf(error)}`;
  }
  return socketErrorText(error);
}

/**
 * A failed dial: `dial tcp 127.0.0.1:1: connect: connection refused`. `reason` is Go's text, or
 * the error it is made from (`dialFailureText`), which becomes the cause.
 */
export function dialError(network: string, address: string, reason: string | Error, cause?: unknown): DialError {
  const text = typeof reason === 'string' ? reason : dialFailureText(reason);
  const why = typeof reason === 'string' ? cause : reason;
  return new DialError(`dial ${network} ${address}: ${text}`, why === undefined ? undefined : { cause: why });
}

/** Go: `dial tcp 127.0.0.1:1: i/o timeout`. */
export function dialTimeoutError(network: string, address: string): DialTimeoutError {
  return new DialTimeoutError(`dial ${network} ${address}: i/o timeout`);
}

/**
 * Go: `listen tcp 127.0.0.1:8972: bind: address already in use`. `network` is what Go names:
 * `udp` for QUIC, `tcp` for WebSocket.
 */
export function listenError(network: string, address: string, error: unknown): ListenError {
  // Node names the failing call `listen`; the errno comes from bind(2), which Go names.
  const text = goErrnoText(errnoOf(error));
  return new ListenError(`listen ${network} ${address}: ${text ? `bind: ${text}` : messageOf(error)}`, { cause: error });
}
