/**
 * The HTTP gateway (Go `server/gateway.go` + `server/converter.go`): an HTTP request with
 * `X-RPCX-*` headers and the payload as body becomes an rpcx call; the reply comes back as
 * the body with `X-RPCX-*` response headers. Status codes, header spellings and error texts
 * are Go's; see the package README for the table and the places where this one differs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetaKey, encodeQuery, newMetadata, type Metadata } from '@rpcx/core';
import { Message, decompressPayload } from '@rpcx/protocol';
import { callContext, invoke, type ServerCore } from '../connection.js';
import { atoi, parseMetaQuery, parseUint64 } from './go-text.js';
import { authorize, postRead, preHandle, preRead, writeHooks } from './hooks.js';
import type { HttpPeer } from './peer.js';
import { headerText, httpError, rawHeader, rawHeaderValue, send, textHeaderValue } from './respond.js';

/** Response header names as Go's net/http writes them (canonicalised: `X-Rpcx-Messageid`). */
export const H = {
  version: 'X-Rpcx-Version',
  messageId: 'X-Rpcx-Messageid',
  servicePath: 'X-Rpcx-Servicepath',
  serviceMethod: 'X-Rpcx-Servicemethod',
  serializeType: 'X-Rpcx-Serializetype',
  statusType: 'X-Rpcx-Messagestatustype',
  errorMessage: 'X-Rpcx-Errormessage',
  meta: 'X-Rpcx-Meta',
} as const;

/** Request header names (Node lower-cases them; matching is case-insensitive as in Go). */
const R = {
  version: 'x-rpcx-version',
  messageId: 'x-rpcx-messageid',
  heartbeat: 'x-rpcx-heartbeat',
  oneway: 'x-rpcx-oneway',
  serializeType: 'x-rpcx-serializetype',
  compressType: 'x-rpcx-compresstype',
  servicePath: 'x-rpcx-servicepath',
  serviceMethod: 'x-rpcx-servicemethod',
  meta: 'x-rpcx-meta',
} as const;

/** httprouter's answer for the methods the gateway is not registered for. */
const ALLOWED = 'GET, OPTIONS, POST, PUT';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

/**
 * The request path's bytes (as a latin1 string) with percent-escapes decoded, as Go's
 * `URL.Path`; undefined when an escape is malformed (Go answers 400 before any handler).
 */
export function requestPath(target: string): string | undefined {
  let path = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(path);
  if (scheme) path = path.slice(scheme[0].length);
  const q = path.indexOf('?');
  if (q >= 0) path = path.slice(0, q);
  let out = '';
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '%') {
      out += path[i];
      continue;
    }
    const hex = path.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
    out += String.fromCharCode(parseInt(hex, 16));
    i += 2;
  }
  return out;
}

type Converted = { message: Message; error?: undefined } | { message?: undefined; error: string };

/**
 * Go's `HTTPRequest2RpcxRequest`, in its order, with the same error texts. Differences, both
 * deliberate: a compressed body is decompressed (Go hands it to the codec still compressed),
 * and the metadata map always exists.
 */
async function convert(core: ServerCore, req: IncomingMessage, servicePath: string, body: Buffer): Promise<Converted> {
  const m = new Message();
  try {
    const seq = rawHeader(req, R.messageId);
    if (seq !== '') {
      const n = parseUint64(latin1(seq));
      m.seq = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    // Any non-empty value sets the bit, "false" included, as in Go.
    if (rawHeader(req, R.heartbeat) !== '') m.heartbeat = true;
    if (rawHeader(req, R.oneway) !== '') m.oneway = true;
    const st = rawHeader(req, R.serializeType);
    // Go keeps the low four bits (SetSerializeType of a byte).
    if (st !== '') m.serializeType = Number(BigInt.asUintN(4, atoi(latin1(st))));
    const ct = rawHeader(req, R.compressType);
    if (ct !== '') m.compressType = Number(BigInt.asUintN(3, atoi(latin1(ct))));
  } catch (err) {
    return { error: (err as Error).message };
  }
  let metadata: Metadata = newMetadata();
  const meta = rawHeader(req, R.meta);
  if (meta !== '') {
    const parsed = parseMetaQuery(headerText(meta));
    if (parsed.error !== undefined) return { error: parsed.error };
    metadata = parsed.metadata;
  }
  const auth = rawHeader(req, 'authorization');
  if (auth !== '') metadata[MetaKey.Auth] = headerText(auth);
  m.metadata = metadata;
  m.servicePath = headerText(servicePath);
  m.serviceMethod = headerText(rawHeader(req, R.serviceMethod));
  m.payload = body;
  if (m.compressType !== 0) {
    try {
      // On zlib's thread pool: a large body does not hold other clients up.
      await decompressPayload(m, core.compressors, core.limits.maxDecompressedLength);
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  return { message: m };
}

/** Answer one gateway request (Go `handleGatewayRequest` behind httprouter's `/*servicePath`). */
export async function serveGateway(core: ServerCore, peer: HttpPeer, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const method = req.method ?? '';
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT') {
    res.setHeader('Allow', ALLOWED);
    if (method === 'OPTIONS') send(res, 200);
    else httpError(res, 'Method Not Allowed', 405);
    return;
  }
  const path = requestPath(req.url ?? '/');
  if (path === undefined) {
    res.setHeader('Connection', 'close');
    httpError(res, '400 Bad Request', 400);
    return;
  }

  const connection = peer.connection;
  const readError = await preRead(core, connection);
  if (readError) return httpError(res, readError.message, 500);

  let servicePath = rawHeader(req, R.servicePath);
  if (servicePath === '') servicePath = path.startsWith('/') ? path.slice(1) : path;
  const serviceMethod = rawHeader(req, R.serviceMethod);
  const serializeType = rawHeader(req, R.serializeType);
  const converted = await convert(core, req, servicePath, body);

  // Go's header echo, branch for branch: which headers appear depends on what failed first.
  let error = converted.error;
  res.setHeader(H.version, rawHeaderValue(rawHeader(req, R.version)));
  res.setHeader(H.messageId, rawHeaderValue(rawHeader(req, R.messageId)));
  if (error === undefined && servicePath === '') error = 'empty servicepath';
  else res.setHeader(H.servicePath, rawHeaderValue(servicePath));
  if (error === undefined && serviceMethod === '') error = 'empty servicemethod';
  else res.setHeader(H.serviceMethod, rawHeaderValue(serviceMethod));
  if (error === undefined && serializeType === '') error = 'empty serialized type';
  else res.setHeader(H.serializeType, rawHeaderValue(serializeType));
  if (error !== undefined) {
    // Go answers a request it cannot convert with 200 and the error in headers.
    res.setHeader(H.statusType, 'Error');
    res.setHeader(H.errorMessage, textHeaderValue(error));
    return send(res, 200);
  }

  const msg = converted.message!;
  const refused = await postRead(core, connection, msg);
  const { ctx, handler } = callContext(core, msg, peer, Date.now());
  core.callStarted();
  try {
    if (refused) {
      await writeHooks(core, 'preWriteResponse', ctx, msg, undefined, refused);
      httpError(res, refused.message, 500);
      await writeHooks(core, 'postWriteResponse', ctx, msg, msg.toResponse(), refused);
      return;
    }
    const denied = await authorize(core, ctx, msg);
    if (denied) {
      await writeHooks(core, 'preWriteResponse', ctx, msg, undefined, denied);
      res.setHeader(H.statusType, 'Error');
      res.setHeader(H.errorMessage, textHeaderValue(denied.message));
      send(res, 401);
      await writeHooks(core, 'postWriteResponse', ctx, msg, msg.toResponse(), denied);
      return;
    }
    await preHandle(core, ctx);
    const { res: reply, error: failure } = await invoke(core, msg, ctx, handler);
    if (failure) {
      // Go sends err.Error() (not ServerErrorFunc) and drops a reply sent with the error.
      await writeHooks(core, 'preWriteResponse', ctx, msg, undefined, failure);
      core.logger.warn(`rpcx: gateway request: ${failure.message}`);
      res.setHeader(H.statusType, 'Error');
      res.setHeader(H.errorMessage, textHeaderValue(failure.message));
      send(res, 500);
      await writeHooks(core, 'postWriteResponse', ctx, msg, msg.toResponse(), failure);
      return;
    }
    await writeHooks(core, 'preWriteResponse', ctx, msg, reply, undefined);
    // Go's url.Values.Encode: keys sorted, values query-escaped; present even when empty.
    res.setHeader(H.meta, textHeaderValue(encodeQuery(ctx.responseMetadata)));
    // The reply is never compressed here: Go's response clone has compression off.
    send(res, 200, msg.oneway ? undefined : reply.payload);
    await writeHooks(core, 'postWriteResponse', ctx, msg, reply, undefined);
  } finally {
    ctx.finish();
    core.callEnded();
  }
}
