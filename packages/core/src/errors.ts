/**
 * One catalogue of errors for every `@rpcx` package: one class per condition, each with a fixed
 * `code` from {@link ErrorCode}; `cause` is always kept. Texts that Go rpcx puts on the wire or
 * returns are reproduced exactly, so a message seen from a Go peer and from a Node peer reads
 * the same.
 *
 * `instanceof` works across two installed copies of `@rpcx/core` (an app and a plugin that
 * each bring their own): every error carries the codes of its class chain under a global
 * symbol, and each class's `Symbol.hasInstance` checks that brand, not only the prototype.
 */

/** Every code an `@rpcx` error can have. Compare `err.code === ErrorCode.DialTimeout`. */
export const ErrorCode = {
  /** Base of the catalogue; not thrown by `@rpcx` itself. */
  Rpcx: 'RPCX_ERR',
  /** The remote service answered with `__rpcx_error__`, or its reply could not be decoded. */
  Service: 'RPCX_ERR_SERVICE',
  Protocol: 'RPCX_ERR_PROTOCOL',
  MalformedFrame: 'RPCX_ERR_MALFORMED_FRAME',
  BadMagic: 'RPCX_ERR_BAD_MAGIC',
  Metadata: 'RPCX_ERR_METADATA',
  MetadataTooManyKeys: 'RPCX_ERR_METADATA_TOO_MANY_KEYS',
  MetadataTooLong: 'RPCX_ERR_METADATA_TOO_LONG',
  MessageTooLong: 'RPCX_ERR_MESSAGE_TOO_LONG',
  UnauthenticatedMessageTooLong: 'RPCX_ERR_UNAUTHENTICATED_MESSAGE_TOO_LONG',
  DecompressedTooLong: 'RPCX_ERR_DECOMPRESSED_TOO_LONG',
  BadCompressedPayload: 'RPCX_ERR_BAD_GZIP',
  Codec: 'RPCX_ERR_CODEC',
  PayloadTooDeep: 'RPCX_ERR_PAYLOAD_TOO_DEEP',
  PayloadTooLarge: 'RPCX_ERR_PAYLOAD_TOO_LARGE',
  Unsupported: 'RPCX_ERR_UNSUPPORTED',
  UnsupportedCodec: 'RPCX_ERR_UNSUPPORTED_CODEC',
  UnsupportedCompressor: 'RPCX_ERR_UNSUPPORTED_COMPRESSOR',
  Connection: 'RPCX_ERR_CONNECTION',
  ConnectionClosed: 'RPCX_ERR_CONNECTION_CLOSED',
  ConnectionLost: 'RPCX_ERR_CONNECTION_LOST',
  Shutdown: 'RPCX_ERR_SHUTDOWN',
  Heartbeat: 'RPCX_ERR_HEARTBEAT',
  IdleTimeout: 'RPCX_ERR_IDLE_TIMEOUT',
  FrameTimeout: 'RPCX_ERR_FRAME_TIMEOUT',
  HttpHeadersTimeout: 'RPCX_ERR_HTTP_HEADERS_TIMEOUT',
  HttpRequestTimeout: 'RPCX_ERR_HTTP_REQUEST_TIMEOUT',
  WriteTimeout: 'RPCX_ERR_WRITE_TIMEOUT',
  ServerBufferFull: 'RPCX_ERR_SERVER_BUFFER_FULL',
  TooManyConnections: 'RPCX_ERR_TOO_MANY_CONNECTIONS',
  Dial: 'RPCX_ERR_DIAL',
  Listen: 'RPCX_ERR_LISTEN',
  Gateway: 'RPCX_ERR_GATEWAY',
  ServerClosed: 'RPCX_ERR_SERVER_CLOSED',
  Timeout: 'RPCX_ERR_TIMEOUT',
  CallTimeout: 'RPCX_ERR_CALL_TIMEOUT',
  DialTimeout: 'RPCX_ERR_DIAL_TIMEOUT',
  DeadlineExceeded: 'RPCX_ERR_DEADLINE',
  BreakerTimeout: 'RPCX_ERR_BREAKER_TIMEOUT',
  Aborted: 'RPCX_ERR_ABORTED',
  NoServer: 'RPCX_ERR_NO_SERVER',
  ClientClosed: 'RPCX_ERR_CLIENT_CLOSED',
  BreakerOpen: 'RPCX_ERR_BREAKER_OPEN',
  Config: 'RPCX_ERR_CONFIG',
  /** Command-line arguments the rpcx CLI cannot use (it exits with status 2). */
  Usage: 'RPCX_ERR_USAGE',
  /** An rpcx CLI command failed (it exits with status 1); the message says why, for a person. */
  Cli: 'RPCX_ERR_CLI',
  RateLimit: 'RPCX_ERR_RATE_LIMIT',
  RetryBudgetExhausted: 'RPCX_ERR_RETRY_BUDGET_EXHAUSTED',
  RateLimitStore: 'RPCX_ERR_RATE_LIMIT_STORE',
  ConcurrencyLimit: 'RPCX_ERR_CONCURRENCY_LIMIT',
  AccessDenied: 'RPCX_ERR_ACCESS_DENIED',
  ConnectionRateLimit: 'RPCX_ERR_CONNECTION_RATE_LIMIT',
  Multi: 'RPCX_ERR_MULTI',
  Registry: 'RPCX_ERR_REGISTRY',
  RegistryKeyNotFound: 'RPCX_ERR_REGISTRY_KEY_NOT_FOUND',
  SideChannel: 'RPCX_ERR_SIDE_CHANNEL',
  UnknownToken: 'RPCX_ERR_UNKNOWN_TOKEN',
  TokenTooShort: 'RPCX_ERR_TOKEN_TOO_SHORT',
  TokenTimeout: 'RPCX_ERR_TOKEN_TIMEOUT',
  TransferIncomplete: 'RPCX_ERR_TRANSFER_INCOMPLETE',
  FileSizeExceeded: 'RPCX_ERR_FILE_SIZE_EXCEEDED',
  TransferReset: 'RPCX_ERR_TRANSFER_RESET',
  TransferStalled: 'RPCX_ERR_TRANSFER_STALLED',
  NotAccepted: 'RPCX_ERR_NOT_ACCEPTED',
  FileNotFound: 'RPCX_ERR_FILE_NOT_FOUND',
  InvalidFileName: 'RPCX_ERR_INVALID_FILE_NAME',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

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
  /** The stream service's acceptor said no (Go `server.ErrNotAccept`). */
  notAccepted: 'server refused the connection',
} as const;

/** Global, so that two copies of this module brand their errors alike. */
const CODES = Symbol.for('@rpcx/core.error-codes');

interface Branded {
  readonly [CODES]?: readonly ErrorCode[];
}

/** An error class of the catalogue: its static `code` names it. */
interface CatalogueClass {
  readonly code: ErrorCode;
}

/** The codes of `cls` and of every catalogue class it extends, most specific first. */
function chainCodes(cls: CatalogueClass): ErrorCode[] {
  const codes: ErrorCode[] = [];
  for (let c: unknown = cls; typeof c === 'function' && Object.hasOwn(c, 'code'); c = Object.getPrototypeOf(c)) {
    codes.push((c as unknown as CatalogueClass).code);
  }
  return codes;
}

type ErrorOptions = { cause?: unknown };

export class RpcxError extends Error {
  static readonly code: ErrorCode = ErrorCode.Rpcx;
  /** The condition, fixed per class. */
  readonly code: ErrorCode;
  declare readonly [CODES]: readonly ErrorCode[];

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    const cls = new.target as unknown as CatalogueClass;
    this.code = cls.code;
    this.name = new.target.name;
    Object.defineProperty(this, CODES, { value: chainCodes(cls), enumerable: false });
  }

  /** True for errors of this class (or a subclass) from any installed copy of @rpcx/core. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const codes = (value as Branded)[CODES];
    return Array.isArray(codes) && codes.includes((this as unknown as CatalogueClass).code);
  }
}

/** True when `value` is an `@rpcx` error (from any installed copy of @rpcx/core). */
export function isRpcxError(value: unknown): value is RpcxError {
  return value instanceof RpcxError;
}

/**
 * An error reported by the remote service (`__rpcx_error__`), or a reply that could not be
 * decoded. Never retried by fail modes, as in Go.
 */
export class ServiceError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Service;
  /** The reply the server sent alongside the error, if any (Go sends it when non-nil). */
  readonly reply?: unknown;
  /** The error reply's metadata (with `__ServerAddress`), when the error came in a reply. */
  readonly metadata?: Record<string, string>;
  constructor(message: string, options?: ErrorOptions & { reply?: unknown; metadata?: Record<string, string> }) {
    super(message, options);
    if (options && 'reply' in options) this.reply = options.reply;
    if (options?.metadata) this.metadata = options.metadata;
  }
}

/** A malformed or over-limit frame. The connection it came from is closed. */
export class ProtocolError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Protocol;
}

/** A frame whose lengths do not add up. */
export class MalformedFrameError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.MalformedFrame;
  constructor(what: string, options?: ErrorOptions) {
    super(`malformed frame: ${what}`, options);
  }
}

/** Go: "wrong magic number: N". */
export class BadMagicError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.BadMagic;
  constructor(byte: number) {
    super(GoErrorText.badMagic(byte));
  }
}

/** Go: "wrong metadata lines. some keys or values are missing", or metadata over a limit. */
export class MetadataError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.Metadata;
  constructor(message: string = GoErrorText.metaKVMissing, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Go: "message is too long". */
export class MessageTooLongError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.MessageTooLong;
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super('message is too long');
    this.length = length;
    this.limit = limit;
  }
}

/**
 * A frame from a connection that has not passed `auth` yet is over the server's small
 * pre-auth limit (Go has no such limit). The connection is closed.
 */
export class UnauthenticatedMessageTooLongError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.UnauthenticatedMessageTooLong;
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super(`message is too long before authentication: ${length} > ${limit} bytes`);
    this.length = length;
    this.limit = limit;
  }
}

/** A frame's metadata has more keys than the decoder allows (Go has no limit). */
export class MetadataTooManyKeysError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.MetadataTooManyKeys;
  readonly limit: number;
  constructor(limit: number) {
    super(`metadata has more than ${limit} keys`);
    this.limit = limit;
  }
}

/** A frame's metadata block is longer than the decoder allows (Go has no limit). */
export class MetadataTooLongError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.MetadataTooLong;
  readonly length: number;
  readonly limit: number;
  constructor(length: number, limit: number) {
    super(`metadata of ${length} bytes is longer than ${limit}`);
    this.length = length;
    this.limit = limit;
  }
}

/** Go: "decompressed size exceeds the maximum allowed size". */
export class DecompressedTooLongError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.DecompressedTooLong;
  readonly limit: number;
  constructor(limit: number, options?: ErrorOptions) {
    super('decompressed size exceeds the maximum allowed size', options);
    this.limit = limit;
  }
}

/** A compressed payload that does not decompress. */
export class BadCompressedPayloadError extends ProtocolError {
  static override readonly code: ErrorCode = ErrorCode.BadCompressedPayload;
}

/**
 * A codec could not encode a value or decode a payload. The message is the codec's own (Go's
 * codec text where Go has one, e.g. `json: unsupported value: NaN`); the server answers it to
 * that caller only and keeps the connection; a client call whose reply does not decode fails
 * with it, and fail modes never retry it (Go treats such a reply as a service error).
 */
export class CodecError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Codec;
}

/** A payload nested deeper than the codec's `maxDepth` option allows. */
export class PayloadTooDeepError extends CodecError {
  static override readonly code: ErrorCode = ErrorCode.PayloadTooDeep;
  readonly limit: number;
  constructor(codec: string, limit: number) {
    super(`${codec}: payload nested deeper than the maxDepth limit of ${limit}`);
    this.limit = limit;
  }
}

/**
 * A payload, or a part of it, larger than one of the codec's limits allows. `option` names
 * that limit (`maxStringLength`, `maxObjects`, …): the codec option that changes it.
 */
export class PayloadTooLargeError extends CodecError {
  static override readonly code: ErrorCode = ErrorCode.PayloadTooLarge;
  readonly option: string;
  readonly limit: number;
  /** `what` says what was too large, e.g. `a string of 70000000 bytes`. */
  constructor(codec: string, what: string, option: string, limit: number) {
    super(`${codec}: ${what} is over the ${option} limit of ${limit}`);
    this.option = option;
    this.limit = limit;
  }
}

/** Something that is not installed (a codec, a compressor, a transport for a network). */
export class UnsupportedError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Unsupported;
}

/** No codec for a serialize type. Go's server text: "can not find codec for N". */
export class UnsupportedCodecError extends UnsupportedError {
  static override readonly code: ErrorCode = ErrorCode.UnsupportedCodec;
  readonly serializeType: number;
  constructor(serializeType: number, message: string = GoErrorText.codecNotFound(serializeType)) {
    super(message);
    this.serializeType = serializeType;
  }
}

/** Go: "unsupported compressor". */
export class UnsupportedCompressorError extends UnsupportedError {
  static override readonly code: ErrorCode = ErrorCode.UnsupportedCompressor;
  constructor(options?: ErrorOptions) {
    super(GoErrorText.unsupportedCompressor, options);
  }
}

/** The connection failed, was refused or closed before the call completed. */
export class ConnectionError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Connection;
}

/** The connection was closed (by either side) while something waited on it. */
export class ConnectionClosedError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.ConnectionClosed;
  constructor(message = 'connection closed', options?: ErrorOptions) {
    super(message, options);
  }
}

/** A client's connection to a server went away with calls pending. */
export class ConnectionLostError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.ConnectionLost;
}

/** Go `ErrShutdown`: the connection is closing or closed. */
export class ShutdownError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.Shutdown;
  constructor(options?: ErrorOptions) {
    super('connection is shut down', options);
  }
}

/** The client's heartbeat got no answer; the connection is closed. */
export class HeartbeatError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.Heartbeat;
}

/** The server closed a connection that sent nothing, ran no call and had nothing to send for `ms`. */
export class IdleTimeoutError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.IdleTimeout;
  readonly ms: number;
  constructor(ms: number) {
    super(`idle timeout: nothing received for ${ms} ms`);
    this.ms = ms;
  }
}

/**
 * A frame (or an HTTP request head or request) that had started did not complete within `ms`:
 * a peer trickling bytes cannot hold a connection open. The connection is closed.
 */
export class FrameTimeoutError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.FrameTimeout;
  readonly ms: number;
  constructor(ms: number) {
    super(`frame timeout: a frame was not completed within ${ms} ms`);
    this.ms = ms;
  }
}

/** An HTTP request head did not complete within `ms` of its first byte. */
export class HttpHeadersTimeoutError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.HttpHeadersTimeout;
  readonly ms: number;
  constructor(ms: number) {
    super(`http: request head not completed within ${ms} ms`);
    this.ms = ms;
  }
}

/** An HTTP request (head and body) did not complete within `ms` of its first byte. */
export class HttpRequestTimeoutError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.HttpRequestTimeout;
  readonly ms: number;
  constructor(ms: number) {
    super(`http: request not completed within ${ms} ms`);
    this.ms = ms;
  }
}

/** Bytes waiting to be sent on a connection made no progress for `ms` (the peer does not read). */
export class WriteTimeoutError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.WriteTimeout;
  readonly ms: number;
  constructor(ms: number) {
    super(`write timeout: unsent bytes made no progress for ${ms} ms`);
    this.ms = ms;
  }
}

/** The bytes a server holds for incomplete frames and requests, over all connections, would pass its cap. */
export class ServerBufferFullError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.ServerBufferFull;
  readonly limit: number;
  constructor(limit: number) {
    super(`server buffer full: incomplete requests would hold more than ${limit} bytes`);
    this.limit = limit;
  }
}

/** A connection was refused because the server already has `limit` open. */
export class TooManyConnectionsError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.TooManyConnections;
  readonly limit: number;
  constructor(limit: number) {
    super(`too many connections: the server allows ${limit}`);
    this.limit = limit;
  }
}

/** A dial failed (refused, unreachable, TLS, …). Texts as Go's net package words them. */
export class DialError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.Dial;
}

/** A listen failed (address in use, permission, …). */
export class ListenError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.Listen;
}

/** An HTTP gateway could not be reached or answered with an HTTP error. */
export class GatewayError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.Gateway;
}

/** Go `http.ErrServerClosed`: the server is closed. */
export class ServerClosedError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.ServerClosed;
  constructor() {
    super('http: Server closed');
  }
}

/**
 * Something took too long. Catch this for any timeout; the subclasses tell which one
 * (a call, a dial, the server-side deadline, a breaker-guarded call).
 */
export class TimeoutError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Timeout;
}

/** The call's own deadline (`timeoutMs`, or a signal from `AbortSignal.timeout`) passed. */
export class CallTimeoutError extends TimeoutError {
  static override readonly code: ErrorCode = ErrorCode.CallTimeout;
  constructor(message = 'call timeout', options?: ErrorOptions) {
    super(message, options);
  }
}

/** A dial did not finish in time. Go: "dial tcp ADDR: i/o timeout". */
export class DialTimeoutError extends TimeoutError {
  static override readonly code: ErrorCode = ErrorCode.DialTimeout;
}

/** Server side: the client's `__ServerTimeout` deadline passed. Go: "context deadline exceeded". */
export class DeadlineExceededError extends TimeoutError {
  static override readonly code: ErrorCode = ErrorCode.DeadlineExceeded;
  constructor(options?: ErrorOptions) {
    super('context deadline exceeded', options);
  }
}

/** Go's Breaker.Call: "breaker time out". */
export class BreakerTimeoutError extends TimeoutError {
  static override readonly code: ErrorCode = ErrorCode.BreakerTimeout;
  constructor() {
    super('breaker time out');
  }
}

/** The caller's AbortSignal fired. `cause` is the signal's reason. */
export class AbortError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Aborted;
  constructor(options?: ErrorOptions) {
    super('call aborted', options);
  }
}

/**
 * Go `ErrXClientNoServer`: no server is listed, or (fan-out calls) none could be connected to;
 * then `cause` is a `MultiError` of the dial failures.
 */
export class NoServerError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.NoServer;
  constructor(options?: ErrorOptions) {
    super('can not found any server', options);
  }
}

/** Go `ErrXClientShutdown`. */
export class ClientClosedError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.ClientClosed;
  constructor() {
    super('xClient is shut down');
  }
}

/** Go `ErrBreakerOpen`: the server's circuit breaker rejects calls for now. */
export class BreakerOpenError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.BreakerOpen;
  constructor() {
    super('breaker open');
  }
}

/** Invalid arguments to an `@rpcx` API (bad address, bad registration, unknown option value, …). */
export class ConfigError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Config;
}

/** Command-line arguments the rpcx CLI cannot use; it prints the message and exits with status 2. */
export class UsageError extends ConfigError {
  static override readonly code: ErrorCode = ErrorCode.Usage;
}

/**
 * An rpcx CLI command failed; it prints the message (worded for a person, with what to do
 * where it can say) and exits with status 1. `cause` is the error underneath.
 */
export class CliError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Cli;
}

/**
 * Go `server.ErrReqReachLimit`: thrown by rate-limit plugins; answered, connection kept. A Go
 * client sees the text as a ServiceError. Never retried by the fail modes.
 */
export class RateLimitError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.RateLimit;
  constructor(message = 'request reached rate limit', options?: ErrorOptions) {
    super(message, options);
  }
}

/** A client's retry budget is spent: the call ends with the failure of its last attempt as `cause`. */
export class RetryBudgetExhaustedError extends RateLimitError {
  static override readonly code: ErrorCode = ErrorCode.RetryBudgetExhausted;
  constructor(options?: ErrorOptions) {
    super('retry budget exhausted', options);
  }
}

/**
 * A shared rate-limit store (Redis) failed or did not answer within its deadline. With the
 * limiter's fail-closed choice the call ends in `RateLimitError` with this as `cause`.
 */
export class RateLimitStoreError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.RateLimitStore;
}

/**
 * A client's limit of calls in flight to one server was reached (and waiting for a free slot,
 * if allowed, took too long). Failover and Failtry try again, so Failover picks another server.
 */
export class ConcurrencyLimitError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.ConcurrencyLimit;
  readonly server: string;
  readonly limit: number;
  constructor(server: string, limit: number) {
    super(`too many calls in flight to ${server}: the limit is ${limit}`);
    this.server = server;
    this.limit = limit;
  }
}

/** A server's allow or deny list refused a connection on accept; it is closed at once. */
export class AccessDeniedError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.AccessDenied;
  readonly remoteAddress: string;
  constructor(remoteAddress: string) {
    super(`access denied to ${remoteAddress}`);
    this.remoteAddress = remoteAddress;
  }
}

/** A server's connection rate limit refused a new connection; it is closed at once. */
export class ConnectionRateLimitError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.ConnectionRateLimit;
  readonly remoteAddress: string;
  constructor(remoteAddress: string) {
    super(`connection rate limit reached: refusing ${remoteAddress}`);
    this.remoteAddress = remoteAddress;
  }
}

/** Several errors at once (fan-out calls, register hooks). Message as Go's `%v` of a slice. */
export class MultiError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Multi;
  readonly errors: readonly Error[];
  constructor(errors: readonly Error[]) {
    super(`[${errors.map((e) => e.message).join(' ')}]`);
    this.errors = errors;
  }
}

/** A registry (etcd, ZooKeeper, Consul, …) failed or answered something unusable. */
export class RegistryError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.Registry;
}

/** libkv's `ErrKeyNotFound`: "Key not found in store". */
export class RegistryKeyNotFoundError extends RegistryError {
  static override readonly code: ErrorCode = ErrorCode.RegistryKeyNotFound;
  readonly key: string;
  constructor(key: string) {
    super(`Key not found in store: ${key}`);
    this.key = key;
  }
}

/**
 * Base of the failures of a side connection: the second TCP (or TLS) connection of a file
 * transfer or a stream (Go's `_filetransfer` / `_streamservice`). Only that connection is
 * closed; the rpcx port is not touched.
 */
export class SideChannelError extends ConnectionError {
  static override readonly code: ErrorCode = ErrorCode.SideChannel;
}

/**
 * A side connection sent a token the server did not hand out, or one already used (tokens
 * are good for one connection). Go logs "failed to read token from ADDR" and closes.
 */
export class UnknownTokenError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.UnknownToken;
  constructor(remoteAddress: string) {
    super(`unknown or already used token from ${remoteAddress}`);
  }
}

/** A side connection closed before sending its whole token. */
export class TokenTooShortError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.TokenTooShort;
  readonly received: number;
  constructor(received: number, expected: number) {
    super(`side connection closed after ${received} of the ${expected} token bytes`);
    this.received = received;
  }
}

/** A side connection did not send its token (nor finish its TLS handshake) within `ms`. */
export class TokenTimeoutError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.TokenTimeout;
  readonly ms: number;
  constructor(ms: number) {
    super(`no token received within ${ms} ms`);
    this.ms = ms;
  }
}

/** The peer closed a side connection before the transfer was complete. */
export class TransferIncompleteError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.TransferIncomplete;
  readonly received: number;
  /** The announced size, when there was one. */
  readonly expected: number | undefined;
  constructor(received: number, expected?: number, options?: ErrorOptions) {
    super(`the peer closed the connection after ${received}${expected === undefined ? '' : ` of ${expected}`} bytes`, options);
    this.received = received;
    this.expected = expected;
  }
}

/** An upload carried more bytes than the `FileSize` it announced. */
export class FileSizeExceededError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.FileSizeExceeded;
  readonly announced: number;
  constructor(announced: number) {
    super(`the peer sent more than the ${announced} bytes it announced`);
    this.announced = announced;
  }
}

/**
 * The peer reset a side connection: the transfer failed on its side (its handler threw, it
 * refused the token, it gave up). Go's side channel has no error message, only the reset.
 */
export class TransferResetError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.TransferReset;
  constructor(message = 'the peer reset the side connection: the transfer failed on its side', options?: ErrorOptions) {
    super(message, options);
  }
}

/** No byte moved on a side connection, in either direction, for `ms`. */
export class TransferStalledError extends SideChannelError {
  static override readonly code: ErrorCode = ErrorCode.TransferStalled;
  readonly ms: number;
  constructor(ms: number) {
    super(`side connection stalled: no bytes moved for ${ms} ms`);
    this.ms = ms;
  }
}

/** Go `server.ErrNotAccept`: the stream service's acceptor refused the client. */
export class NotAcceptedError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.NotAccepted;
  constructor() {
    super(GoErrorText.notAccepted);
  }
}

/** A file asked for by name is not there (`serveDirectory` of @rpcx/file-transfer). */
export class FileNotFoundError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.FileNotFound;
  readonly fileName: string;
  constructor(fileName: string, options?: ErrorOptions) {
    super(`file not found: ${echoName(fileName)}`, options);
    this.fileName = fileName;
  }
}

/** A file name that is not a plain name in one directory (empty, `..`, a path, a NUL). */
export class InvalidFileNameError extends RpcxError {
  static override readonly code: ErrorCode = ErrorCode.InvalidFileName;
  readonly fileName: string;
  constructor(fileName: string) {
    super(`invalid file name ${JSON.stringify(echoName(fileName))}: a plain name without a directory is expected`);
    this.fileName = fileName;
  }
}
