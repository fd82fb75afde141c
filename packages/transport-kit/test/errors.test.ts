// Go's words for Node's system errors, shared by every transport.
import { DialError, DialTimeoutError, ListenError } from '@rpcx/core';
import { dialError, dialFailureText, dialTimeoutError, errnoOf, listenError, socketErrorText } from '../src/index.js';

/** A Node system error as `net` reports them. */
function systemError(code: string, syscall?: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${syscall ?? 'x'} ${code}`), { code, syscall, ...extra });
}

test('socket errors read as Go prints them, with the system call as Go names it', () => {
  expect(socketErrorText(systemError('ECONNREFUSED', 'connect'))).toBe('connect: connection refused');
  expect(socketErrorText(systemError('ECONNRESET', 'read'))).toBe('read: connection reset by peer');
  expect(socketErrorText(systemError('ECONNREFUSED', 'recvmsg'))).toBe('read: connection refused');
  expect(socketErrorText(systemError('EPIPE'))).toBe('broken pipe');
  expect(socketErrorText(new Error('something else'))).toBe('something else');
});

test("the errno is found inside a happy-eyeballs AggregateError and in a library's cause chain", () => {
  const aggregate = Object.assign(new AggregateError([new Error('no code'), systemError('ECONNREFUSED', 'connect')]), {});
  expect(errnoOf(aggregate)).toBe('ECONNREFUSED');
  expect(errnoOf(new Error('wrapped', { cause: systemError('EADDRINUSE', 'bind') }))).toBe('EADDRINUSE');
});

test('dial failures: refused, unknown host, TLS', () => {
  const refused = dialError('tcp', '127.0.0.1:1', systemError('ECONNREFUSED', 'connect'));
  expect(refused).toBeInstanceOf(DialError);
  expect(refused.message).toBe('dial tcp 127.0.0.1:1: connect: connection refused');
  expect(refused.cause).toMatchObject({ code: 'ECONNREFUSED' });
  expect(dialFailureText(systemError('ENOTFOUND', 'getaddrinfo', { hostname: 'nowhere.invalid' }))).toBe('lookup nowhere.invalid: no such host');
  expect(dialFailureText(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe(
    'tls: self-signed certificate',
  );
  expect(dialError('kcp', 'h:1', 'connection refused').message).toBe('dial kcp h:1: connection refused');
});

test('dial timeouts and listen failures', () => {
  const timeout = dialTimeoutError('ws', '127.0.0.1:1');
  expect(timeout).toBeInstanceOf(DialTimeoutError);
  expect(timeout.message).toBe('dial ws 127.0.0.1:1: i/o timeout');
  const inUse = listenError('udp', '127.0.0.1:8972', systemError('EADDRINUSE', 'listen'));
  expect(inUse).toBeInstanceOf(ListenError);
  expect(inUse.message).toBe('listen udp 127.0.0.1:8972: bind: address already in use');
  expect(listenError('tcp', 'x', new Error('odd')).message).toBe('listen tcp x: odd');
});
