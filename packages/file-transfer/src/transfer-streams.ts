// What a file-transfer handler reads from and writes to: thin wrappers over the side socket
// that keep its back-pressure and turn its failures into typed errors. Go hands the handler
// the raw net.Conn; a wrapper is what lets an upload's size be checked and a dropped peer be
// told apart from a finished file.
import type net from 'node:net';
import { Readable, Writable } from 'node:stream';
import { FileSizeExceededError, TransferIncompleteError, type SideChannelError } from '@rpcx/core';

/**
 * Bytes read from a file at a time, by `sendFile` and `serveDirectory`. Node's default (64
 * KiB) costs a system call and a trip through the streams per 64 KiB; 1 MiB chunks move a
 * file about twice as fast over loopback, for 1 MiB of memory per transfer.
 */
export const FILE_CHUNK_BYTES = 1024 * 1024;

/**
 * Bytes a side socket, and a wrapper over it, queues before it holds the other side back:
 * two file chunks. Node's default (16 KiB) is below one socket read, so a socket piped into
 * anything would stop and restart reading after every read (system calls each time), and a
 * writer would wait for the socket to empty before each chunk.
 */
export const HIGH_WATER_MARK = 2 * FILE_CHUNK_BYTES;

/**
 * The bytes of one upload: ends after exactly `size` bytes and the client's end of stream
 * (any `size` when it is -1). More bytes fail it with `FileSizeExceededError`, an early end
 * or a lost connection with `TransferIncompleteError`. A paused reader pauses the socket,
 * so TCP slows the client down.
 */
export class UploadReader extends Readable {
  /** Bytes received so far. */
  received = 0;
  /** All announced bytes and the client's end of stream arrived. */
  complete = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly size: number,
    /** Called once when the upload fails, to close the connection. */
    private readonly onFail: (error: SideChannelError) => void,
  ) {
    super({ highWaterMark: HIGH_WATER_MARK });
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onLost);
    socket.on('close', this.onLost);
  }

  /** Fail with `error`: the handler sees it, the connection is closed. */
  fail(error: SideChannelError): void {
    if (this.destroyed) return;
    this.destroy(error);
    this.onFail(error);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onLost);
    this.socket.off('close', this.onLost);
    callback(error);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.received += chunk.length;
    if (this.size >= 0 && this.received > this.size) return this.fail(new FileSizeExceededError(this.size));
    if (!this.push(chunk)) this.socket.pause();
  };

  private readonly onEnd = (): void => {
    if (this.size >= 0 && this.received < this.size) return this.fail(new TransferIncompleteError(this.received, this.size));
    this.complete = true;
    this.push(null);
  };

  private readonly onLost = (cause?: unknown): void => {
    if (this.complete) return;
    const options = cause instanceof Error ? { cause } : undefined;
    this.fail(new TransferIncompleteError(this.received, this.size >= 0 ? this.size : undefined, options));
  };
}

/**
 * Where a download handler writes the file. Ending it ends the side connection (the client
 * sees the end of the file); a lost client fails it with `TransferIncompleteError`. While the
 * client does not read, writes wait for the socket to drain.
 */
export class DownloadWriter extends Writable {
  /** Bytes handed to the socket so far. */
  sent = 0;
  private waitingForDrain: (() => void) | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly onFail: (error: SideChannelError) => void,
  ) {
    super({ highWaterMark: HIGH_WATER_MARK });
    socket.on('error', this.onLost);
    socket.on('close', this.onLost);
  }

  /** Fail with `error`: the handler sees it, the connection is closed. */
  fail(error: SideChannelError): void {
    if (this.destroyed) return;
    this.destroy(error);
    this.onFail(error);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.sent += chunk.length;
    this.socket.write(chunk);
    // Keep the socket's queue filled up to our mark rather than waiting for it to empty.
    if (this.socket.writableLength < HIGH_WATER_MARK) return callback();
    this.waitingForDrain = () => {
      this.waitingForDrain = undefined;
      callback();
    };
    this.socket.once('drain', this.waitingForDrain);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.off('error', this.onLost);
    this.socket.off('close', this.onLost);
    if (this.waitingForDrain) this.socket.off('drain', this.waitingForDrain);
    callback(error);
  }

  private readonly onLost = (cause?: unknown): void => {
    if (this.writableFinished) return;
    this.fail(new TransferIncompleteError(this.sent, undefined, cause instanceof Error ? { cause } : undefined));
  };
}
