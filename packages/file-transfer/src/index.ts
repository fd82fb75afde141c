/**
 * @packageDocumentation
 * Go rpcx's two side channels, wire-compatible with Go rpcx v1.9.4: file transfer
 * (`_filetransfer`: upload and download) and the stream service (`_streamservice`: a raw
 * byte stream). An rpcx call hands out a 32-byte token and the address of a second TCP (or
 * TLS) listener; the client dials it, writes the token, then the bytes flow.
 *
 * Server: `enableFileTransfer(server, …)`, `enableStreamService(server, …)`, `serveDirectory(dir)`.
 * Client: `sendFile(xclient, …)`, `downloadFile(xclient, …)`, `openStream(xclient, …)`.
 *
 * @module @rpcx/file-transfer
 */
export {
  enableFileTransfer,
  enableStreamService,
  type Acceptor,
  type DownloadHandler,
  type FileTransferOptions,
  type ServerLike,
  type SideInfo,
  type SideService,
  type StreamHandler,
  type StreamServiceOptions,
  type UploadHandler,
} from './server.js';
export type { SideListenerOptions } from './side-listener.js';
export { serveDirectory, type DirectoryHandlers } from './directory.js';
export {
  downloadFile,
  openStream,
  sendFile,
  type CallerLike,
  type DownloadFileOptions,
  type Progress,
  type SendFileOptions,
  type SideCallOptions,
  type SideOptions,
  type TransferOptions,
  type TransferResult,
} from './client.js';
export {
  SEND_FILE_SERVICE_NAME,
  STREAM_SERVICE_NAME,
  TOKEN_LENGTH,
  type DownloadFileArgs,
  type FileTransferArgs,
  type StreamServiceArgs,
} from './wire.js';
