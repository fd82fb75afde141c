/**
 * The HTTP gateway (Go `server/gateway.go` + `server/converter.go`): an HTTP request with
 * `X-RPCX-*` headers and the payload as body becomes an rpcx call; the reply comes back as
 * the body with `X-RPCX-*` response headers. Status codes, header spellings and error texts
 * are Go's; see the package README for the table and the places where this one differs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetaKey, encodeQuery, newMetadata, type Metadata } from '@rpcx/core';
import {
  atoi,
  headerText,
  httpError,
  parseMetaQuery,
  parseUint64,
  rawHeader,
  rawHeaderValue,
  requestPath,
  send,
  textHeaderValue,
} from '@rpcx/http-kit';
import { Message, decompressPayload } from '@rpcx/protocol';
import type { ProtocolHost } from '@rpcx/server';
import type { HttpPeer } from './peer.js';

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

type Converted = { message: Message; error?: undefined } | { message?: undefined; error: string };

/**
 * Go's `HTTPRequest2RpcxRequest`, in its order, with the same error texts. Differences, both
 * deliberate: a compressed body is decompressed (Go hands it to the codec still compressed),
 * and the metadata map always exists.
 */
async function convert(host: ProtocolHost, req: IncomingMessage, servicePath: string, body: Buffer): Promise<Converted> {
  const m = new Message();
  const seq = rawHeader(req, R.messageId);
  if (seq !== '') {
    const n = parseUint64(latin1(seq));
    if (typeof n === 'string') return { error: n };
    m.seq = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  // Any non-empty value sets the bit, "false" included, as in Go.
  if (rawHeader(req, R.heartbeat) !== '') m.heartbeat = true;
  if (rawHeader(req, R.oneway) !== '') m.oneway = true;
  const st = rawHeader(req, R.serializeType);
  if (st !== '') {
    const n = atoi(latin1(st));
    if (typeof n === 'string') return { error: n };
    // Go keeps the low four bits (SetSerializeType of a byte).
    m.serializeType = Number(BigInt.asUintN(4, n));
  }
  const ct = rawHeader(req, R.compressType);
  if (ct !== '') {
    const n = atoi(latin1(ct));
    if (typeof n === 'string') return { error: n };
    m.compressType = Number(BigInt.asUintN(3, n));
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
      await decompressPayload(m, host.compressors, host.limits.maxDecompressedLength);
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  return { message: m };
}

/** Answer one gateway request (Go `handleGatewayRequest` behind httprouter's `/*servicePath`). */
export async function serveGateway(host: ProtocolHost, peer: HttpPeer, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
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

  const dispatcher = host.dispatcher;
  const connection = peer.connection;
  const readError = await dispatcher.preReadRequest(connection);
  if (readError) return httpError(res, readError.message, 500);

  let servicePath = rawHeader(req, R.servicePath);
  if (servicePath === '') servicePath = path.startsWith('/') ? path.slice(1) : path;
  const serviceMethod = rawHeader(req, R.serviceMethod);
  const serializeType = rawHeader(req, R.serializeType);
  const converted = await convert(host, req, servicePath, body);

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
  const refused = await dispatcher.postReadRequest(connection, msg);
  const call = dispatcher.startCall(msg, peer, 'gateway');
  try {
    if (refused) {
      await dispatcher.preWriteResponse(call, undefined, refused);
      httpError(res, refused.message, 500);
      await dispatcher.postWriteResponse(call, msg.toResponse(), refused);
      return;
    }
    const denied = await dispatcher.authorize(call);
    if (denied) {
      await dispatcher.preWriteResponse(call, undefined, denied);
      res.setHeader(H.statusType, 'Error');
      res.setHeader(H.errorMessage, textHeaderValue(denied.message));
      send(res, 401);
      await dispatcher.postWriteResponse(call, msg.toResponse(), denied);
      return;
    }
    const result = await dispatcher.handle(call);
    const failure = result.error;
    if (failure) {
      // Go sends err.Error() (not ServerErrorFunc) and drops a reply sent with the error.
      await dispatcher.preWriteResponse(call, undefined, failure);
      host.logger.warn(`rpcx: gateway request: ${failure.message}`);
      res.setHeader(H.statusType, 'Error');
      res.setHeader(H.errorMessage, textHeaderValue(failure.message));
      send(res, 500);
      await dispatcher.postWriteResponse(call, msg.toResponse(), failure);
      return;
    }
    const reply = dispatcher.response(call, result);
    await dispatcher.preWriteResponse(call, reply, undefined);
    // Go's url.Values.Encode: keys sorted, values query-escaped; present even when empty.
    res.setHeader(H.meta, textHeaderValue(encodeQuery(result.metadata)));
    // The reply is never compressed here: Go's response clone has compression off.
    send(res, 200, msg.oneway ? undefined : result.payload);
    await dispatcher.postWriteResponse(call, reply, undefined);
  } finally {
    dispatcher.endCall(call);
  }
}
