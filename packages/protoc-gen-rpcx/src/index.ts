/**
 * @packageDocumentation
 * `protoc-gen-rpcx-es`, a protoc / buf plugin: for each service in a .proto, TypeScript next to
 * protoc-gen-es's messages with a service interface, a `register…(server, impl)` and typed
 * clients over an XClient or OneClient, on the same service path and method names as the Go
 * stubs protoc-gen-rpcx generates. The package's bin runs the plugin; this entry exports it for
 * programs that drive plugins themselves.
 *
 * @module @rpcx/protoc-gen-rpcx
 */
export { protocGenRpcxEs, goName, type PluginOptions } from './plugin.js';
