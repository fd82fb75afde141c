/**
 * JSON-RPC 2.0 over HTTP (Go `server/jsonrpc2.go`): `{"method":"Service.Method","params":…,
 * "id":…}` calls `Service.Method` with `params` as its JSON payload. Request decoding, the
 * answer's shape and the error codes and texts are Go's; see the README for the differences.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MetaKey, SerializeType, newMetadata } from '@rpcx/core';
import { Message } from '@rpcx/protocol';
import { callContext, invoke, type ServerCore } from '../connection.js';
import { compactJson, decodeJsonRpcRequest, quoteJson, type JsonRpcId, type JsonRpcRequest } from './go-json.js';
import { parseMetaQuery } from './go-text.js';
import { authorize, postRead, preHandle, preRead, writeHooks } from './hooks.js';
import type { HttpPeer } from './peer.js';
import { headerText, httpError, rawHeader, send } from './respond.js';

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
async function call(core: ServerCore, peer: HttpPeer, req: IncomingMessage, rpc: JsonRpcRequest): Promise<Outcome> {
  const connection = peer.connection;
  await preRead(core, connection); // Go ignores its error here

  const lastDot = rpc.method.lastIndexOf('.');
  if (lastDot <= 0) return { error: [JsonRpcCode.MethodNotFound, 'must contains servicepath and method'] };
  const msg = new Message({
    serializeType: SerializeType.JSON,
    oneway: rpc.id === undefined,
    servicePath: rpc.method.slice(0, lastDot),
    serviceMethod: rpc.method.slice(lastDot + 1),
    payload: rpc.params ?? NULL_PARAMS,
  });
  const metadata = newMetadata();
  const meta = rawHeader(req, 'x-rpcx-meta');
  if (meta !== '') parseMetaQuery(headerText(meta), metadata); // a bad pair is skipped, as in Go
  const auth = rawHeader(req, 'authorization');
  if (auth !== '') metadata[MetaKey.Auth] = headerText(auth);
  msg.metadata = metadata;

  const refused = await postRead(core, connection, msg);
  if (refused) return { error: [JsonRpcCode.InternalError, refused.message] };

  const { ctx, handler } = callContext(core, msg, peer, Date.now());
  core.callStarted();
  try {
    const denied = await authorize(core, ctx, msg);
    if (denied) {
      await writeHooks(core, 'preWriteResponse', ctx, msg, undefined, denied);
      await writeHooks(core, 'postWriteResponse', ctx, msg, msg.toResponse(), denied);
      return { error: [JsonRpcCode.InternalError, denied.message] };
    }
    await preHandle(core, ctx);
    const { res, error } = await invoke(core, msg, ctx, handler);
    if (msg.oneway) return undefined;
    await writeHooks(core, 'preWriteResponse', ctx, msg, error ? undefined : res, error);
    const outcome: Outcome = error ? { error: [JsonRpcCode.InternalError, error.message] } : { result: res.payload };
    await writeHooks(core, 'postWriteResponse', ctx, msg, error ? msg.toResponse() : res, error);
    return outcome;
  } finally {
    ctx.finish();
    core.callEnded();
  }
}

/** Answer one JSON-RPC request (Go `jsonrpcHandler`; any path, any method). */
export async function serveJsonRpc(core: ServerCore, peer: HttpPeer, req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  let rpc: JsonRpcRequest;
  try {
    rpc = decodeJsonRpcRequest(body);
  } catch (err) {
    return sendJson(res, errorBody(JsonRpcCode.ParseError, (err as Error).message, undefined));
  }
  if (rpc.id === undefined) {
    // A notification: answered at once with an empty 200, run afterwards, its outcome dropped.
    send(res, 200);
    call(core, peer, req, rpc).catch((err) => core.logger.warn(`rpcx: JSON-RPC notification: ${(err as Error).message}`));
    return;
  }
  const outcome = (await call(core, peer, req, rpc))!;
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
