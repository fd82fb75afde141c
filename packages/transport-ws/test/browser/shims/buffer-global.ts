// Injected into the test page: the `buffer` package as the global `Buffer` that
// @rpcx/protocol, @rpcx/core and the codecs use.
export { Buffer } from 'buffer';
