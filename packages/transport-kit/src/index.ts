/**
 * @packageDocumentation
 * Building blocks for `@rpcx` transport packages. `StreamConnection` is an rpcx `Connection`
 * over one bidirectional web-streams stream (a `ReadableStream`/`WritableStream` pair), as the
 * QUIC and WebTransport transports carry rpcx.
 *
 * @module @rpcx/transport-kit
 */
export { StreamConnection, COALESCE_LIMIT, type BidiStream, type StreamConnectionOptions, type StreamConnectionState } from './stream-connection.js';
