/**
 * The HTTP helpers other @rpcx packages share with the built-in gateway (`@rpcx/server/http`):
 * Go's header spellings and value rules, `strconv` / `url` parsing with Go's error texts,
 * Go `http.Error`, the request-path decoding, rs/cors, and the pacing of pipelined requests.
 * `@rpcx/gateway` uses them so the standalone gateway maps HTTP exactly as the built-in one does.
 */
export { requestPath } from './gateway.js';
export { atoi, canonicalHeaderKey, parseMetaQuery, parseUint64 } from './go-text.js';
export { headerText, httpError, rawHeader, rawHeaderValue, send, textHeaderValue } from './respond.js';
export { Cors, allowAllCors, type CorsOptions } from './cors.js';
export { MAX_PIPELINED_REQUESTS, pacePipelining } from './pipeline.js';
