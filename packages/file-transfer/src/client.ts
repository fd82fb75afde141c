// Client side: Go's `XClient.SendFile`, `XClient.DownloadFile` and `XClient.Stream`, as
// functions over any client with a `call` (an @rpcx/xclient `XClient` whose servicePath is
// `_filetransfer` or `_streamservice`). Kept out of @rpcx/xclient, which also runs in
// browsers and must not pull in node:net and node:fs.
import { open } from 'node:fs/promises';
import net from 'node:net';
import { basename } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tls from 'node:tls';
import {
  AbortError,
  CallTimeoutError,
  ConfigError,
  DialError,
  DialTimeoutError,
  FileSizeExceededError,
  RpcxError,
  SerializeType,
  SideChannelError,
  TransferResetError,
  TransferStalledError,
  splitHostPort,
} from '@rpcx/core';
import { RateLimiter } from './rate-limit.js';
import { FILE_CHUNK_BYTES, HIGH_WATER_MARK } from './transfer-streams.js';
import {
  checkSerializeType,
  decodeTokenReply,
  encodeDownloadFileArgs,
  encodeFileTransferArgs,
  encodeStreamServiceArgs,
  type TokenReply,
} from './wire.js';

/** The options of the rpcx call these functions make. */
export interface SideCallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  serializeType?: number;
}

/**
 * What these functions need from a client: `@rpcx/xclient`'s `XClient` (and `RpcClient`-like
 * wrappers) fit. The calls go to the client's own service path.
 */
export interface CallerLike {
  call(method: string, args: unknown, options?: SideCallOptions): Promise<unknown>;
}

/** Options shared by `sendFile`, `downloadFile` and `openStream`. */
export interface SideOptions {
  /** Cancels the whole operation: the call, the dial and the transfer (`AbortError`). */
  signal?: AbortSignal;
  /** Go `Meta`: sent with the call, handed to the server's handler and acceptor. */
  meta?: Record<string, string>;
  /** Timeout of the rpcx call that hands out the token. Default: the client's own. */
  timeoutMs?: number;
  /**
   * Encoding of that call: msgpack (3) or JSON (1), the two Go can use here. Go uses its
   * XClient's; this call names it, so the client needs that codec. @default 3 (msgpack)
   */
  serializeType?: number;
  /** Go `Option.ConnectTimeout` for dialing the side listener (`DialTimeoutError`). @default 1000 */
  connectTimeoutMs?: number;
  /**
   * Dial the side listener over TLS (`true`, or `tls.connect` options such as `ca`). Only
   * for servers that serve it with `tls`; Go's side listener is plain TCP. @default false
   */
  tls?: boolean | tls.ConnectionOptions;
}

/** How far a transfer is. */
export interface Progress {
  /** Bytes sent (upload) or received (download) so far. */
  bytes: number;
  /** All bytes, when known: the upload's size; downloads announce none (Go's protocol has no size). */
  total: number | undefined;
}

export interface TransferOptions extends SideOptions {
  /** Called as bytes move: once per chunk (a file read of up to 1 MiB, or a socket read). */
  onProgress?: (progress: Progress) => void;
  /**
   * Fail with `TransferStalledError` when no byte moved for this long, including the wait
   * for the server to close after the last byte. 0 = never. @default 60000
   */
  idleTimeoutMs?: number;
}

export interface SendFileOptions extends TransferOptions {
  /** Go `FileName`. Default: the path's base name (as Go); required for a `Readable`. */
  fileName?: string;
  /** Go `FileSize`. Default: the file's size; for a `Readable`, -1 (unknown) unless given. */
  size?: number;
  /** Go `rateInBytesPerSecond`: cap the upload with Go's token bucket. 0 = no cap. @default 0 */
  rateBytesPerSecond?: number;
}

export interface DownloadFileOptions extends TransferOptions {
  /** End `out` when the file is complete (as `pipe`). Go leaves its writer open. @default true */
  end?: boolean;
}

/** What a finished transfer moved. */
export interface TransferResult {
  bytes: number;
}

/**
 * Go `XClient.SendFile`: upload a file (a path, or any `Readable` with `fileName`) through the
 * server's `_filetransfer` service. Resolves once the server has taken the whole file and
 * closed the connection; rejects with the server's error (a `ServiceError`) when it refused the
 * upload in its `TransferFile` call, and with `TransferResetError` when its handler failed.
 */
export async function sendFile(client: CallerLike, source: string | Readable, options: SendFileOptions = {}): Promise<TransferResult> {
  const rate = options.rateBytesPerSecond ?? 0;
  if (!(rate >= 0)) throw new ConfigError(`rateBytesPerSecond must be 0 or more, got ${rate}`);
  const { input, fileName, size } = await openSource(source, options);
  try {
    const reply = await tokenCall(client, 'TransferFile', encodeFileTransferArgs({ fileName, fileSize: size, meta: options.meta ?? {} }, serializeTypeOf(options)), options);
    const side = await dialSide(reply, options);
    const total = size >= 0 ? size : undefined;
    try {
      const stages: (Readable | RateLimiter)[] = [input];
      if (rate > 0) stages.push(new RateLimiter(rate));
      const last = stages[stages.length - 1];
      let bytes = 0;
      last.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (total !== undefined && bytes > total) last.destroy(new FileSizeExceededError(total));
        else options.onProgress?.({ bytes, total });
      });
      const closed = closedByPeer(side.socket);
      closed.catch(() => {}); // awaited below, unless the pipeline fails first
      await pipeline([...stages, side.socket], { signal: options.signal });
      // The server closes once its handler has taken the file, or resets when it failed.
      await closed;
      return { bytes };
    } catch (err) {
      side.socket.destroy();
      throw sideFailure(err, options.signal);
    }
  } finally {
    input.destroy();
  }
}

/**
 * Go `XClient.DownloadFile`: write the server's file `fileName` into `out` (and end it, unless
 * `end: false`). Resolves once the server ended the file and `out` has taken it; rejects with
 * `TransferResetError` when the server's handler failed, and with the server's error when it
 * refused the download in its `DownloadFile` call.
 */
export async function downloadFile(client: CallerLike, fileName: string, out: Writable, options: DownloadFileOptions = {}): Promise<TransferResult> {
  const reply = await tokenCall(client, 'DownloadFile', encodeDownloadFileArgs({ fileName, meta: options.meta ?? {} }, serializeTypeOf(options)), options);
  const side = await dialSide(reply, options);
  let bytes = 0;
  side.socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    options.onProgress?.({ bytes, total: undefined });
  });
  try {
    await pipeline(side.socket, out, { signal: options.signal, end: options.end ?? true });
    return { bytes };
  } catch (err) {
    throw sideFailure(err, options.signal);
  } finally {
    side.socket.destroy();
  }
}

/**
 * Go `XClient.Stream`: open a raw byte stream to the server's `_streamservice` handler. The
 * returned socket (TCP, or TLS with `tls`) is yours: write, read, `end()` your side when done.
 * It is half-open: the server may go on writing after you end. Aborting `signal` destroys it
 * with an `AbortError`.
 */
export async function openStream(client: CallerLike, options: SideOptions = {}): Promise<net.Socket> {
  const reply = await tokenCall(client, 'Stream', encodeStreamServiceArgs({ meta: options.meta ?? {} }, serializeTypeOf(options)), options);
  const { socket } = await dialSide(reply, options, true);
  const { signal } = options;
  if (signal) {
    const onAbort = () => socket.destroy(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return socket;
}

function serializeTypeOf(options: SideOptions): number {
  const serializeType = options.serializeType ?? SerializeType.MsgPack;
  checkSerializeType(serializeType);
  return serializeType;
}

async function tokenCall(client: CallerLike, method: string, args: unknown, options: SideOptions): Promise<TokenReply> {
  const callOptions: SideCallOptions = { serializeType: serializeTypeOf(options) };
  if (options.signal) callOptions.signal = options.signal;
  if (options.timeoutMs !== undefined) callOptions.timeoutMs = options.timeoutMs;
  return decodeTokenReply(await client.call(method, args, callOptions));
}

async function openSource(source: string | Readable, options: SendFileOptions): Promise<{ input: Readable; fileName: string; size: number }> {
  if (typeof source === 'string') {
    const handle = await open(source, 'r');
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new ConfigError(`sendFile: ${source} is not a file`);
      return { input: handle.createReadStream({ highWaterMark: FILE_CHUNK_BYTES }), fileName: options.fileName ?? basename(source), size: options.size ?? stat.size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }
  if (!(source instanceof Readable)) throw new ConfigError('sendFile: the source must be a file path or a Readable');
  if (options.fileName === undefined) throw new ConfigError('sendFile: a Readable source needs options.fileName');
  const size = options.size ?? -1;
  if (!Number.isSafeInteger(size) || size < -1) throw new ConfigError(`sendFile: size must be a whole number of bytes (or -1), got ${size}`);
  return { input: source, fileName: options.fileName, size };
}

interface Side {
  /** The byte stream (TLS over `raw` with `tls`). */
  socket: net.Socket;
}

/** Dial the side listener, within the connect timeout, and write the token first. */
async function dialSide(reply: TokenReply, options: TransferOptions, halfOpen = false): Promise<Side> {
  const { host, port } = splitHostPort(reply.addr);
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal);
  // net.Socket hands the high-water marks to stream.Duplex (@types/node does not list them).
  const connectOptions: net.TcpNetConnectOpts & { readableHighWaterMark: number; writableHighWaterMark: number } = {
    host: host || 'localhost',
    port,
    allowHalfOpen: halfOpen,
    readableHighWaterMark: HIGH_WATER_MARK,
    writableHighWaterMark: HIGH_WATER_MARK,
  };
  const raw = net.connect(connectOptions);
  let socket: net.Socket = raw;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new DialTimeoutError(`dial tcp ${reply.addr}: i/o timeout`)), connectTimeoutMs);
      const onAbort = () => reject(abortError(signal!));
      signal?.addEventListener('abort', onAbort, { once: true });
      const fail = (err: Error) => reject(new DialError(`dial tcp ${reply.addr}: ${err.message}`, { cause: err }));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        resolve();
      };
      socket.once('error', fail);
      raw.once('connect', () => {
        if (!options.tls) return done();
        const tlsOptions: tls.ConnectionOptions = options.tls === true ? {} : options.tls;
        socket.off('error', fail);
        socket = tls.connect({ servername: net.isIP(host) ? undefined : host || 'localhost', ...tlsOptions, socket: raw });
        socket.once('error', fail);
        socket.once('secureConnect', done);
      });
    });
  } catch (err) {
    raw.destroy();
    socket.destroy();
    throw err;
  }
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  if (idleTimeoutMs > 0 && !halfOpen) raw.setTimeout(idleTimeoutMs, () => socket.destroy(new TransferStalledError(idleTimeoutMs)));
  socket.write(reply.token);
  return { socket };
}

/** Resolves when the server closes the connection normally; rejects when it resets it. */
function closedByPeer(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (!hadError) resolve();
    });
    // Reading is how the server's end (or reset) is seen.
    socket.resume();
  });
}

/** The error to report for a failed transfer. */
function sideFailure(err: unknown, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return abortError(signal);
  if (err instanceof RpcxError) return err as RpcxError;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return new TransferResetError(undefined, { cause: e });
  return new SideChannelError(`side connection: ${e.message}`, { cause: e });
}

/** `AbortSignal.timeout` ends in a timeout error; any other abort in an AbortError. */
function abortError(signal: AbortSignal): Error {
  const reason = signal.reason as Error | undefined;
  if (reason?.name === 'TimeoutError') return new CallTimeoutError('transfer timeout', { cause: reason });
  return new AbortError({ cause: reason });
}
