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
  constructor(message: string, options?: { cause?: unknown; reply?: unknown }, code = 'RPCX_ERR_SERVICE') {
    super(message, code, options);
    if (options && 'reply' in options) this.reply = options.reply;
  }
}

/**
 * A payload a codec cannot decode: malformed, or over one of the codec's limits. A server
 * answers it to that caller only (its text in `__rpcx_error__`) and keeps the connection; a
 * client's call fails with it. A `ServiceError` because Go treats a reply it cannot decode as
 * one: fail modes never retry it. `cause` is the underlying library's error, when there is one.
 */
export class DecodeError extends ServiceError {
  constructor(message: string, options?: { cause?: unknown }, code = 'RPCX_ERR_DECODE') {
    super(message, options, code);
  }
}

/** A payload nested deeper than the codec's `maxDepth` option allows. */
export class PayloadTooDeepError extends DecodeError {
  readonly limit: number;
  constructor(codec: string, limit: number) {
    super(`${codec}: payload nested deeper than the maxDepth limit of ${limit}`, undefined, 'RPCX_ERR_PAYLOAD_TOO_DEEP');
    this.limit = limit;
  }
}

/**
 * A payload, or a part of it, larger than one of the codec's limits allows. `option` names
 * that limit (`maxStringLength`, `maxObjects`, …): the codec option that changes it.
 */
export class PayloadTooLargeError extends DecodeError {
  readonly option: string;
  readonly limit: number;
  /** `what` says what was too large, e.g. `a string of 70000000 bytes`. */
  constructor(codec: string, what: string, option: string, limit: number) {
    super(`${codec}: ${what} is over the ${option} limit of ${limit}`, undefined, 'RPCX_ERR_PAYLOAD_TOO_LARGE');
    this.option = option;
    this.limit = limit;
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

/** Exact texts Go rpcx's server sends in `__rpcx_error__` for its own failures. */
export const GoErrorText = {
  serviceNotFound: (servicePath: string) => `rpcx: can't find service ${servicePath}`,
  methodNotFound: (method: string) => `rpcx: can't find method ${method}`,
  codecNotFound: (serializeType: number) => `can not find codec for ${serializeType}`,
  badMagic: (byte: number) => `wrong magic number: ${byte}`,
  metaKVMissing: 'wrong metadata lines. some keys or values are missing',
  unsupportedCompressor: 'unsupported compressor',
} as const;
