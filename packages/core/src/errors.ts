/**
 * One catalogue of errors for every @rpcx package. Each class has a stable `code`;
 * `cause` is always kept. Texts that Go rpcx puts on the wire or returns are reproduced
 * exactly, so a message seen from a Go peer and from a Node peer reads the same.
 */
export class RpcxError extends Error {
  readonly code: string;
  constructor(message: string, code = 'RPCX_ERR', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An error reported by the remote service (`__rpcx_error__`), or a reply that could not be
 * decoded. Never retried by fail modes, as in Go.
 */
export class ServiceError extends RpcxError {
  /** The reply the server sent alongside the error, if any (Go sends it when non-nil). */
  readonly reply?: unknown;
  constructor(message: string, options?: { cause?: unknown; reply?: unknown }) {
    super(message, 'RPCX_ERR_SERVICE', options);
    if (options && 'reply' in options) this.reply = options.reply;
  }
}

/** A malformed or over-limit frame. The connection it came from is closed. */
export class ProtocolError extends RpcxError {
  constructor(message: string, code = 'RPCX_ERR_PROTOCOL', options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** Go: "message is too long". */
export class MessageTooLongError extends ProtocolError {
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super('message is too long', 'RPCX_ERR_MESSAGE_TOO_LONG');
    this.length = length;
    this.limit = limit;
  }
}

/** Go: "decompressed size exceeds the maximum allowed size". */
export class DecompressedTooLongError extends ProtocolError {
  readonly limit: number;
  constructor(limit: number, options?: { cause?: unknown }) {
    super('decompressed size exceeds the maximum allowed size', 'RPCX_ERR_DECOMPRESSED_TOO_LONG', options);
    this.limit = limit;
  }
}

/**
 * A frame from a connection that has not passed `auth` yet is over the server's small
 * pre-auth limit (Go has no such limit). The connection is closed.
 */
export class UnauthenticatedMessageTooLongError extends ProtocolError {
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super(`message is too long before authentication: ${length} > ${limit} bytes`, 'RPCX_ERR_UNAUTHENTICATED_MESSAGE_TOO_LONG');
    this.length = length;
    this.limit = limit;
  }
}

/** A frame's metadata has more keys than the decoder allows (Go has no limit). */
export class MetadataTooManyKeysError extends ProtocolError {
  readonly limit: number;
  constructor(limit: number) {
    super(`metadata has more than ${limit} keys`, 'RPCX_ERR_METADATA_TOO_MANY_KEYS');
    this.limit = limit;
  }
}

/** A frame's metadata block is longer than the decoder allows (Go has no limit). */
export class MetadataTooLongError extends ProtocolError {
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super(`metadata of ${length} bytes is longer than ${limit}`, 'RPCX_ERR_METADATA_TOO_LONG');
    this.length = length;
    this.limit = limit;
  }
}

/** A codec, compressor or transport that is not installed. */
export class UnsupportedError extends RpcxError {
  constructor(message: string, code = 'RPCX_ERR_UNSUPPORTED') {
    super(message, code);
  }
}

/** The connection failed, was refused or closed before the call completed. */
export class ConnectionError extends RpcxError {
  constructor(message: string, code = 'RPCX_ERR_CONNECTION', options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** Go `ErrShutdown`: the connection is closing or closed. */
export class ShutdownError extends ConnectionError {
  constructor(options?: { cause?: unknown }) {
    super('connection is shut down', 'RPCX_ERR_SHUTDOWN', options);
  }
}

/** The server closed a connection that sent nothing, ran no call and had nothing to send for `ms`. */
export class IdleTimeoutError extends ConnectionError {
  readonly ms: number;
  constructor(ms: number) {
    super(`idle timeout: nothing received for ${ms} ms`, 'RPCX_ERR_IDLE_TIMEOUT');
    this.ms = ms;
  }
}

/**
 * A frame (or an HTTP request head or request) that had started did not complete within `ms`:
 * a peer trickling bytes cannot hold a connection open. The connection is closed.
 */
export class FrameTimeoutError extends ConnectionError {
  readonly ms: number;
  constructor(ms: number) {
    super(`frame timeout: a frame was not completed within ${ms} ms`, 'RPCX_ERR_FRAME_TIMEOUT');
    this.ms = ms;
  }
}

/** An HTTP request head did not complete within `ms` of its first byte. */
export class HttpHeadersTimeoutError extends ConnectionError {
  readonly ms: number;
  constructor(ms: number) {
    super(`http: request head not completed within ${ms} ms`, 'RPCX_ERR_HTTP_HEADERS_TIMEOUT');
    this.ms = ms;
  }
}

/** An HTTP request (head and body) did not complete within `ms` of its first byte. */
export class HttpRequestTimeoutError extends ConnectionError {
  readonly ms: number;
  constructor(ms: number) {
    super(`http: request not completed within ${ms} ms`, 'RPCX_ERR_HTTP_REQUEST_TIMEOUT');
    this.ms = ms;
  }
}

/** Bytes waiting to be sent on a connection made no progress for `ms` (the peer does not read). */
export class WriteTimeoutError extends ConnectionError {
  readonly ms: number;
  constructor(ms: number) {
    super(`write timeout: unsent bytes made no progress for ${ms} ms`, 'RPCX_ERR_WRITE_TIMEOUT');
    this.ms = ms;
  }
}

/** The bytes a server holds for incomplete frames and requests, over all connections, would pass its cap. */
export class ServerBufferFullError extends ConnectionError {
  readonly limit: number;
  constructor(limit: number) {
    super(`server buffer full: incomplete requests would hold more than ${limit} bytes`, 'RPCX_ERR_SERVER_BUFFER_FULL');
    this.limit = limit;
  }
}

/** A connection was refused because the server already has `limit` open. */
export class TooManyConnectionsError extends ConnectionError {
  readonly limit: number;
  constructor(limit: number) {
    super(`too many connections: the server allows ${limit}`, 'RPCX_ERR_TOO_MANY_CONNECTIONS');
    this.limit = limit;
  }
}

/** The call's deadline passed (client side) or the dial did not finish in time. */
export class TimeoutError extends RpcxError {
  constructor(message = 'call timeout', code = 'RPCX_ERR_TIMEOUT', options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class AbortError extends RpcxError {
  constructor(options?: { cause?: unknown }) {
    super('call aborted', 'RPCX_ERR_ABORTED', options);
  }
}

/** Go `ErrXClientNoServer`. */
export class NoServerError extends RpcxError {
  constructor() {
    super('can not found any server', 'RPCX_ERR_NO_SERVER');
  }
}

/** Go `ErrXClientShutdown`. */
export class ClientClosedError extends RpcxError {
  constructor() {
    super('xClient is shut down', 'RPCX_ERR_CLIENT_CLOSED');
  }
}

/** Go `ErrBreakerOpen`: the server's circuit breaker rejects calls for now. */
export class BreakerOpenError extends RpcxError {
  constructor() {
    super('breaker open', 'RPCX_ERR_BREAKER_OPEN');
  }
}

/** Invalid arguments to an @rpcx API (bad address, bad registration, …). */
export class ConfigError extends RpcxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'RPCX_ERR_CONFIG', options);
  }
}

/** Go `server.ErrReqReachLimit`: thrown by rate-limit plugins; answered, connection kept. */
export class RateLimitError extends RpcxError {
  constructor() {
    super('request reached rate limit', 'RPCX_ERR_RATE_LIMIT');
  }
}

/** Several errors at once (fan-out calls, register hooks). Message as Go's `%v` of a slice. */
export class MultiError extends RpcxError {
  readonly errors: readonly Error[];
  constructor(errors: readonly Error[]) {
    super(`[${errors.map((e) => e.message).join(' ')}]`, 'RPCX_ERR_MULTI');
    this.errors = errors;
  }
}

/**
 * Longest name (in UTF-16 units) echoed in an error text. Go echoes any length, so a request
 * for a 256 KiB service path got an answer twice its size; longer names are cut here and end
 * in `...`. Names of real services are far shorter and read exactly as in Go.
 */
export const MAX_ECHOED_NAME_LENGTH = 256;

function echoName(name: string): string {
  return name.length > MAX_ECHOED_NAME_LENGTH ? `${name.slice(0, MAX_ECHOED_NAME_LENGTH)}...` : name;
}

/**
 * Exact texts Go rpcx's server sends in `__rpcx_error__` for its own failures (names longer
 * than `MAX_ECHOED_NAME_LENGTH` cut short).
 */
export const GoErrorText = {
  serviceNotFound: (servicePath: string) => `rpcx: can't find service ${echoName(servicePath)}`,
  methodNotFound: (method: string) => `rpcx: can't find method ${echoName(method)}`,
  codecNotFound: (serializeType: number) => `can not find codec for ${serializeType}`,
  badMagic: (byte: number) => `wrong magic number: ${byte}`,
  metaKVMissing: 'wrong metadata lines. some keys or values are missing',
  unsupportedCompressor: 'unsupported compressor',
} as const;
