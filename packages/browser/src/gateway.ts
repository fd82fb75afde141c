import {
  AbortError,
  SerializeType,
  ServiceError,
  encodeQuery,
  newMetadata,
  parseQuery,
  GatewayError,
  type Metadata,
} from '@rpcx/core';

export interface GatewayCallOptions {
  /** How `body` is encoded (the `X-RPCX-SerializeType` header). @default SerializeType.MsgPack */
  serializeType?: number;
  /** Request metadata, sent as the `X-RPCX-Meta` URL query. */
  metadata?: Metadata;
  /** Auth token, sent as `Authorization` (the server's gateway maps it to `__AUTH`). */
  auth?: string;
  /** Echoed as `X-RPCX-MessageID`. */
  messageId?: number | bigint;
  /** Send oneway: the server answers at once with an empty body. */
  oneway?: boolean;
  signal?: AbortSignal;
  /** The fetch to use. Default: `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Extra `RequestInit` fields (`credentials`, `mode`, …). Headers and body are the call's. */
  init?: Omit<RequestInit, 'body' | 'headers' | 'method' | 'signal'>;
}

export interface GatewayReply {
  /** The reply payload, encoded with the request's serialize type; empty on error. */
  payload: Uint8Array;
  /** The reply metadata (`X-Rpcx-Meta`). */
  metadata: Metadata;
  /** Set when the server answered with `X-Rpcx-Messagestatustype: Error`. */
  error?: ServiceError;
  /** The HTTP status: 200, or 401 / 500 with `error`. */
  status: number;
}

const encoder = new TextEncoder();

/**
 * Call `servicePath.method` through the HTTP gateway with fetch: the gateway of `@rpcx/server`
 * (and Go rpcx's) on the rpcx port, or a standalone `@rpcx/gateway`. `body` is the encoded
 * arguments (a string is sent as its UTF-8 bytes); the reply's payload comes back undecoded.
 *
 * Service errors (`X-Rpcx-Messagestatustype: Error`) are returned in `error`, not thrown.
 * A failed request, or an answer that is not a gateway answer (404, 405, 413, …), rejects
 * with `GatewayError` (a `ConnectionError`), an aborted one with `AbortError` (`cause`: the
 * signal's reason). Calls from another origin need CORS on the server that exposes
 * the `X-Rpcx-*` response headers (see the README).
 */
export async function gatewayCall(
  baseUrl: string,
  servicePath: string,
  method: string,
  body: Uint8Array | string,
  options: GatewayCallOptions = {},
): Promise<GatewayReply> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'X-RPCX-ServicePath': servicePath,
    'X-RPCX-ServiceMethod': method,
    'X-RPCX-SerializeType': String(options.serializeType ?? SerializeType.MsgPack),
  };
  if (options.metadata && Object.keys(options.metadata).length > 0) headers['X-RPCX-Meta'] = encodeQuery(options.metadata);
  if (options.auth !== undefined) headers.Authorization = options.auth;
  if (options.messageId !== undefined) headers['X-RPCX-MessageID'] = String(options.messageId);
  if (options.oneway) headers['X-RPCX-Oneway'] = 'true';
  const url = `${baseUrl.replace(/\/+$/, '')}/${encodeURIComponent(servicePath)}`;
  const bytes = typeof body === 'string' ? encoder.encode(body) : body;

  let response: Response;
  let payload: Uint8Array;
  try {
    response = await doFetch(url, {
      ...options.init,
      method: 'POST',
      headers,
      // A copy in its own ArrayBuffer: fetch takes the whole buffer of a view in some engines.
      body: bytes.slice().buffer as ArrayBuffer,
      signal: options.signal,
    });
    payload = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (options.signal?.aborted) throw new AbortError({ cause: options.signal.reason });
    throw new GatewayError(`gateway ${url}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  const metaHeader = response.headers.get('X-Rpcx-Meta');
  const metadata = newMetadata();
  if (metaHeader) for (const [k, vs] of parseQuery(metaHeader)) metadata[k] = vs[0];
  if (response.headers.get('X-Rpcx-Messagestatustype') === 'Error') {
    const text = response.headers.get('X-Rpcx-Errormessage') ?? 'unknown service error';
    return { payload: new Uint8Array(0), metadata, error: new ServiceError(text), status: response.status };
  }
  if (response.status !== 200) {
    const text = new TextDecoder().decode(payload).trim();
    throw new GatewayError(`gateway ${url}: HTTP ${response.status}${text ? `: ${text}` : ''}`);
  }
  return { payload, metadata, status: response.status };
}
