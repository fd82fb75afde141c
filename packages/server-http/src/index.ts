/**
 * @packageDocumentation
 * Go rpcx's HTTP gateway and JSON-RPC 2.0 on the rpcx port, for `@rpcx/server`:
 * `new Server({ ..., http: httpGateway() })`. Go's server has both on by default; here they are
 * opt-in, so a server that speaks only rpcx carries no HTTP code. Calls that come in over HTTP
 * go through the same services, `auth`, plugin hooks and interceptors as rpcx frames.
 *
 * @module @rpcx/server-http
 */
export { httpGateway, type HttpGatewayOptions } from './front.js';
export { allowAllCors, type CorsOptions } from '@rpcx/http-kit';
