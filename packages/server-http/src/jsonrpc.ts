/**
 * JSON-RPC 2.0 over HTTP (Go `server/jsonrpc2.go`): `{"method":"Service.Method","params":…,
 * "id":…}` calls `Service.Method` with `params` as its JSON payload. Request decoding, the
 * answer's shape and the error codes and texts are Go's; see the README for the differences.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetaKey, SerializeType } from '@rpcx/core';
import { headerText, httpError, parseMetaQuery, rawHeader, send } from '@rpcx/http-kit';
import { Message } from '@rpcx/protocol';
import type { ProtocolHost } from '@rpcx/server';
import { compactJson, decodeJsonRpcRequest, quoteJson, type JsonRpcId, type JsonRpcRequest } from './go-json.js';
import type { HttpPeer } from './peer.js';

export const JsonRpcCode = {
  ParseError: -32700,
  MethodNotFound: -32601,
  InternalError: -32603,
} as const;

/** `params` left out (or null): Go crashes on it; here the method gets JSON `null`. */
const NULL_PARAMS = Buffer.from('null');

const idJson = (id: JsonRpcId): string => ('number' in id ? id.number : id.name === '' ? '0' : quoteJson(id.name));

/** Go's `jsonrpcRespone`: `result` or `error` (with `data: null`), `id` left out when absent. */
function errorBody(code: number, message: string, id: JsonRpcId | undefined): string {
  const tail = id === undefined ? '' : `,"id":${idJson(id)}`;
  return `{"jsonrpc":"2.0","error":{"code":${code},"message":${quoteJson(message)},"data":null}${tail}}`;
}

function resultBody(result: Buffer, id: JsonRpcId): Buffer {
  return Buffer.concat([Buffer.from('{"jsonrpc":"2.0","result":'), result, Buffer.from(`,"id":${idJson(id)}}`)]);
}

/** Go writes `Context-Type` (sic) and lets net/http sniff `text/plain`; this sends the real type. */
function sendJson(res: ServerResponse, body: string | Buffer): void {
  res.setHeader('Content-Type', 'application/json');
  send(res, 200, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
}

type Outcome = { error: [code: number, message: string] } | { result: Uint8Array } | undefined;

/** Go `handleJSONRPCRequest`; undefined for a notification. */
async function call(host: ProtocolHost, peer: HttpPeer, req: IncomingMessage, rpc: JsonRpcRequest): Promise<Outcome> {
  const dispatcher = host.dispatcher;
  const connection = peer.connection;
  await dispatcher.preReadRequest(connection); // Go ignores its error here

  const lastDot = rpc.method.lastIndexOf('.');
  if (lastDot <= 0) return { error: [JsonRpcCode.MethodNotFound, 'must contains servicepath and method'] };
  const msg = new Message({
    serializeType: SerializeType.JSON,
    oneway: rpc.id === undefined,
    servicePath: rpc.method.slice(0, lastDot),
    serviceMethod: rpc.method.slice(lastDot + 1),
    payload: rpc.params ?? NULL_PARAMS,
  });
  const meta = rawHeader(req, 'x-rpcx-meta');
  // A bad pair is skipped and the error ignored, as in Go.
  if (meta !== '') msg.metadata = parseMetaQuery(headerText(meta)).metadata;
  const auth = rawHeader(req, 'authorization');
  if (auth !== '') msg.metadata[MetaKey.Auth] = headerText(auth);

  const refused = await dispatcher.postReadRequest(connection, msg);
  if (refused) return { error: [JsonRpcCode.InternalError, refused.message] };

  const rpcCall = dispatcher.startCall(msg, peer, 'jsonrpc');
  try {
    const denied = await dispatcher.authorize(rpcCall);
    if (denied) {
      await dispatcher.preWriteResponse(rpcCall, undefined, denied);
      await dispatcher.postWriteResponse(rpcCall, msg.toResponse(), denied);
      return { error: [JsonRpcCode.InternalError, denied.message] };
    }
    const result = await dispatcher.handle(rpcCall);
    if (msg.oneway) return undefined;
    const error = result.error;
    const res = error ? msg.toResponse() : dispatcher.response(rpcCall, result);
    await dispatcher.preWriteResponse(rpcCall, error ? undefined : res, error);
    const outcome: Outcome = error ? { error: [JsonRpcCode.InternalError, error.message] } : { result: result.payload };
    await dispatcher.postWriteResponse(rpcCall, res, error);
    return outcome;
  } finally {
    dispatcher.endCall(rpcCall);
  }
}

/** Answer one JSON-RPC request (Go `jsonrpcHandler`; any path, any method). */
export async function serveJsonRpc(host: ProtocolHost, peer: HttpPeer, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  let rpc: JsonRpcRequest;
  try {
    rpc = decodeJsonRpcRequest(body);
  } catch (err) {
    return sendJson(res, errorBody(JsonRpcCode.ParseError, (err as Error).message, undefined));
  }
  if (rpc.id === undefined) {
    // A notification: answered at once with an empty 200, run afterwards, its outcome dropped.
    send(res, 200);
    call(host, peer, req, rpc).catch((err) => host.logger.warn(`rpcx: JSON-RPC notification: ${(err as Error).message}`));
    return;
  }
  const outcome = (await call(host, peer, req, rpc))!;
  if ('error' in outcome) return sendJson(res, errorBody(outcome.error[0], outcome.error[1], rpc.id));
  let result: Buffer;
  try {
    // json.Marshal of a RawMessage compacts it and escapes <, >, & (and fails on bad JSON).
    result = compactJson(outcome.result);
  } catch (err) {
    return httpError(res, `json: error calling MarshalJSON for type *json.RawMessage: ${(err as Error).message}`, 500);
  }
  sendJson(res, resultBody(result, rpc.id));
}
