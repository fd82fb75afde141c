// Server side: Go's `Server.EnableFileTransfer` and `Server.EnableStreamService`, added to an
// @rpcx/server through its public API (register a service, use a plugin to stop with it).
import type net from 'node:net';
import type { Readable, Writable, Duplex } from 'node:stream';
import { ConfigError, NotAcceptedError, SideChannelError, type RequestContext, type ServerPlugin, type Startable } from '@rpcx/core';
import { SideListener, settle, type SideConnection, type SideListenerOptions } from './side-listener.js';
import { DownloadWriter, UploadReader } from './transfer-streams.js';
import {
  SEND_FILE_SERVICE_NAME,
  STREAM_SERVICE_NAME,
  decodeDownloadFileArgs,
  decodeFileTransferArgs,
  decodeStreamServiceArgs,
  encodeTokenReply,
  type DownloadFileArgs,
  type FileTransferArgs,
  type StreamServiceArgs,
} from './wire.js';

/**
 * What these functions need from a server: `@rpcx/server`'s `Server` has it. Services are
 * registered like any other (registry plugins publish them), and the side listener stops
 * when the server does.
 */
export interface ServerLike {
  register(service: object, options?: { name?: string; methods?: readonly string[] }): Promise<unknown>;
  use(plugin: ServerPlugin): Promise<void>;
}

/** About one side connection, for its handler. */
export interface SideInfo {
  /** `host:port` of the client's side connection. */
  remoteAddress: string;
  /**
   * Aborted when the side connection closes, with the error that closed it (a
   * `TransferStalledError`, `TransferIncompleteError`, …) as its reason: for work a handler
   * does besides reading or writing its stream.
   */
  signal: AbortSignal;
}

/**
 * Go `FileTransferHandler`: receives an upload. `file` yields exactly the announced bytes
 * and then ends; it fails with `TransferIncompleteError` (the client left early),
 * `FileSizeExceededError` (more bytes than announced) or `TransferStalledError`. When the
 * returned promise resolves after the whole file was read, the connection is closed
 * normally; when it rejects (or resolves before the end), the connection is reset and the
 * client's `sendFile` fails.
 */
export type UploadHandler = (file: Readable, args: FileTransferArgs, info: SideInfo) => void | Promise<void>;

/**
 * Go `DownloadFileHandler`: writes the file the client asked for into `out` (pipe into it,
 * or `write` and `end`). Resolving ends the connection normally (`out` is ended if the
 * handler did not); rejecting resets it, so the client's `downloadFile` fails instead of
 * keeping a cut file. `out` fails with `TransferIncompleteError` if the client goes.
 */
export type DownloadHandler = (out: Writable, args: DownloadFileArgs, info: SideInfo) => void | Promise<void>;

/**
 * Go `StreamHandler`: owns a raw byte stream with the client (the socket itself, TCP or
 * TLS). When the returned promise resolves, the server ends its side of the stream; when it
 * rejects, the connection is reset.
 */
export type StreamHandler = (stream: Duplex, args: StreamServiceArgs, info: SideInfo) => void | Promise<void>;

/**
 * Go `StreamAcceptor`, also offered for uploads and downloads: runs in the rpcx call, before
 * a token is handed out. Return `false` to refuse with Go's `server refused the connection`
 * (`NotAcceptedError`), or throw to refuse with your error's text; the client's call fails
 * with it and no side connection is made.
 */
export type Acceptor<A> = (args: A, ctx: RequestContext) => boolean | void | Promise<boolean | void>;

export interface FileTransferOptions extends SideListenerOptions {
  /** The service path (Go's `serviceName` argument). @default '_filetransfer' */
  serviceName?: string;
  /** Go's `handler`: enables `TransferFile` (uploads). */
  uploadHandler?: UploadHandler;
  /** Go's `downloadFileHandler`: enables `DownloadFile`. */
  downloadHandler?: DownloadHandler;
  /** Check an upload before its token is handed out (Go has none). */
  uploadAcceptor?: Acceptor<FileTransferArgs>;
  /** Check a download before its token is handed out (Go has none): e.g. that the file exists. */
  downloadAcceptor?: Acceptor<DownloadFileArgs>;
}

export interface StreamServiceOptions extends Omit<SideListenerOptions, 'idleTimeoutMs'> {
  /** The service path (Go's `serviceName` argument). @default '_streamservice' */
  serviceName?: string;
  /** Go's `streamHandler`. */
  handler: StreamHandler;
  /** Go's `acceptor`: runs in the `Stream` call; `false` refuses with `server refused the connection`. */
  acceptor?: Acceptor<StreamServiceArgs>;
  /**
   * Close a stream on which no byte moved, either way, for this long (the handler's stream
   * fails with `TransferStalledError`). 0 = never, as Go: a stream may be quiet for long.
   * @default 0
   */
  idleTimeoutMs?: number;
}

/** A running side service (file transfer or stream service). */
export interface SideService {
  /** The service path registered on the rpcx server. */
  readonly serviceName: string;
  /** `host:port` the side listener is bound to. */
  readonly addr: string;
  /** `host:port` handed to clients (`advertiseAddr`, or `addr`). */
  readonly advertisedAddr: string;
  /**
   * Stop the side listener and close its connections (the server's `close` / `shutdown`
   * does this too). The rpcx service stays registered; its calls still hand out tokens
   * that nothing accepts.
   */
  close(): Promise<void>;
}

type FileWork = { kind: 'upload'; args: FileTransferArgs } | { kind: 'download'; args: DownloadFileArgs };

/**
 * Go `server.EnableFileTransfer(serviceName, server.NewFileTransfer(addr, handler,
 * downloadFileHandler, waitNum))`: starts the side listener and registers `TransferFile`
 * (with an `uploadHandler`) and `DownloadFile` (with a `downloadHandler`) on `server`.
 *
 * ```ts
 * await enableFileTransfer(server, { addr: '0.0.0.0:8973', advertiseAddr: 'files.example.com:8973', ...serveDirectory('/srv/files') });
 * ```
 */
export async function enableFileTransfer(server: ServerLike, options: FileTransferOptions): Promise<SideService> {
  const { uploadHandler, downloadHandler } = options;
  if (!uploadHandler && !downloadHandler) throw new ConfigError('enableFileTransfer needs an uploadHandler, a downloadHandler or both');
  const serviceName = options.serviceName || SEND_FILE_SERVICE_NAME;
  const listener = await SideListener.listen<FileWork>(options, (connection, work) => {
    const info = { remoteAddress: connection.remoteAddress, signal: connection.signal };
    const report = (error: Error) => listener.report(error, connection.remoteAddress);
    if (work.kind === 'upload') serveUpload(connection, uploadHandler!, work.args, info, report);
    else serveDownload(connection, downloadHandler!, work.args, info, report);
  });
  const service: Record<string, (args: unknown, ctx: RequestContext) => Promise<unknown>> = {
    TransferFile: async (raw, ctx) => {
      const args = decodeFileTransferArgs(raw);
      await accept(options.uploadAcceptor, args, ctx);
      return encodeTokenReply({ token: listener.issue({ kind: 'upload', args }), addr: listener.advertisedAddr }, ctx.message.serializeType);
    },
    DownloadFile: async (raw, ctx) => {
      const args = decodeDownloadFileArgs(raw);
      await accept(options.downloadAcceptor, args, ctx);
      return encodeTokenReply({ token: listener.issue({ kind: 'download', args }), addr: listener.advertisedAddr }, ctx.message.serializeType);
    },
  };
  const methods = [...(uploadHandler ? ['TransferFile'] : []), ...(downloadHandler ? ['DownloadFile'] : [])];
  return attach(server, serviceName, service, methods, listener);
}

/**
 * Go `server.EnableStreamService(serviceName, server.NewStreamService(addr, handler,
 * acceptor, waitNum))`: starts the side listener and registers `Stream` on `server`.
 */
export async function enableStreamService(server: ServerLike, options: StreamServiceOptions): Promise<SideService> {
  const { handler } = options;
  if (typeof handler !== 'function') throw new ConfigError('enableStreamService needs a handler');
  const serviceName = options.serviceName || STREAM_SERVICE_NAME;
  const listener = await SideListener.listen<StreamServiceArgs>({ ...options, idleTimeoutMs: options.idleTimeoutMs ?? 0 }, (connection, args) => {
    const { socket } = connection;
    settle(
      () => handler(socket, args, { remoteAddress: connection.remoteAddress, signal: connection.signal }),
      () => endSoftly(socket),
      (error) => {
        connection.reset(error);
        listener.report(error, connection.remoteAddress);
      },
    );
  });
  const service = {
    Stream: async (raw: unknown, ctx: RequestContext) => {
      const args = decodeStreamServiceArgs(raw);
      await accept(options.acceptor, args, ctx);
      return encodeTokenReply({ token: listener.issue(args), addr: listener.advertisedAddr }, ctx.message.serializeType);
    },
  };
  return attach(server, serviceName, service, ['Stream'], listener);
}

async function accept<A>(acceptor: Acceptor<A> | undefined, args: A, ctx: RequestContext): Promise<void> {
  if (acceptor && (await acceptor(args, ctx)) === false) throw new NotAcceptedError();
}

/** Register the service and tie the listener's life to the server's. */
async function attach<T>(server: ServerLike, serviceName: string, service: object, methods: string[], listener: SideListener<T>): Promise<SideService> {
  try {
    await server.register(service, { name: serviceName, methods });
    // A Startable plugin is stopped by the server's close() and shutdown().
    const plugin: ServerPlugin & Startable = { name: `${serviceName} side listener`, start() {}, stop: () => listener.close() };
    await server.use(plugin);
  } catch (err) {
    await listener.close();
    throw err;
  }
  return { serviceName, addr: listener.addr, advertisedAddr: listener.advertisedAddr, close: () => listener.close() };
}

function serveUpload(connection: SideConnection, handler: UploadHandler, args: FileTransferArgs, info: SideInfo, report: (error: Error) => void): void {
  const file = new UploadReader(connection.socket, args.fileSize, (error) => connection.reset(error));
  connection.onStall = (error) => file.fail(error);
  settle(
    () => handler(file, args, info),
    () => {
      // A handler that stops before the end has not taken the file: the client must not think so.
      if (file.complete) endSoftly(connection.socket);
      else fail(file.errored ?? new SideChannelError('the upload handler returned before reading the whole file'));
    },
    fail,
  );
  function fail(error: Error) {
    file.destroy();
    connection.reset(error);
    report(error);
  }
}

function serveDownload(connection: SideConnection, handler: DownloadHandler, args: DownloadFileArgs, info: SideInfo, report: (error: Error) => void): void {
  const out = new DownloadWriter(connection.socket, (error) => connection.reset(error));
  connection.onStall = (error) => out.fail(error);
  settle(
    () => handler(out, args, info),
    () => {
      if (!out.writableEnded && !out.destroyed) out.end();
    },
    (error) => {
      out.destroy();
      connection.reset(error);
      report(error);
    },
  );
}

/** End our side; the socket closes once the peer ends too (or the idle timeout reaps it). */
function endSoftly(socket: net.Socket): void {
  if (!socket.destroyed && !socket.writableEnded) socket.end();
}
