/**
 * @packageDocumentation
 * Go's net/http, as Go rpcx's HTTP fronts show it to clients, for the `@rpcx` packages that serve
 * HTTP: the server's gateway and JSON-RPC (`@rpcx/server-http`) and the standalone gateway
 * (`@rpcx/gateway`). Header spellings and value rules, `strconv` / `url` parsing with Go's
 * error texts, `http.Error`, `http.DetectContentType`, the request-path decoding, rs/cors, and
 * the pacing of pipelined requests. Neither a server nor a client: it depends on `@rpcx/core`
 * only, so the standalone gateway uses it without pulling in the server.
 *
 * @module @rpcx/http-kit
 */
export { requestPath } from './path.js';
export { atoi, canonicalHeaderKey, goQuote, parseMetaQuery, parseUint64 } from './go-text.js';
export { headerText, httpError, rawHeader, rawHeaderValue, send, textHeaderValue } from './respond.js';
export { detectContentType } from './sniff.js';
export { Cors, allowAllCors, type CorsOptions } from './cors.js';
export { MAX_PIPELINED_REQUESTS, pacePipelining } from './pipeline.js';
