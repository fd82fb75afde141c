/**
 * The standalone gateway (Go `rpcxio/rpcx-gateway`): an HTTP server whose requests carry
 * `X-RPCX-*` headers and the payload as body; each becomes a raw rpcx request sent with one
 * XClient per service path (`sendRaw`, Go `SendRaw`), and the reply comes back as the body.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ConfigError,
  FailMode,
  MessageStatus,
  MetaKey,
  SelectMode,
  SerializeType,
  ServerBufferFullError,
  ServerClosedError,
  WriteTimeoutError,
  silentLogger,
  type Codec,
  type Logger,
  type Selector,
  type ServiceDiscovery,
  type Transport,
} from '@rpcx/core';
import { CompressorRegistry, DEFAULT_MAX_MESSAGE_LENGTH, Message, decompressPayload } from '@rpcx/protocol';
import {
  Cors,
  atoi,
  canonicalHeaderKey,
  headerText,
  httpError,
  pacePipelining,
  parseMetaQuery,
  parseUint64,
  rawHeader,
  requestPath,
  textHeaderValue,
  type CorsOptions,
} from '@rpcx/http-kit';
import { XClient, selectorFor, type XClientOptions } from '@rpcx/xclient';

/** The gateway's `selector` option as the factory an XClient takes (a number through `selectorFor`). */
function selectorFactory(selector: Selector | number | undefined): (() => Selector) | undefined {
  if (selector === undefined) return undefined;
  return typeof selector === 'number' ? () => selectorFor(selector) : () => selector;
}

/** rpcx-gateway's header names (its `converter.go`), including the three-s `MesssageType`. */
export const GatewayHeader = {
  version: 'X-RPCX-Version',
  messageType: 'X-RPCX-MesssageType',
  heartbeat: 'X-RPCX-Heartbeat',
  oneway: 'X-RPCX-Oneway',
  messageStatusType: 'X-RPCX-MessageStatusType',
  serializeType: 'X-RPCX-SerializeType',
  messageId: 'X-RPCX-MessageID',
  servicePath: 'X-RPCX-ServicePath',
  serviceMethod: 'X-RPCX-ServiceMethod',
  meta: 'X-RPCX-Meta',
  errorMessage: 'X-RPCX-ErrorMessage',
} as const;

export type GatewayMode = 'gateway' | 'agent';

export interface GatewayHttpOptions {
  /** CORS (rs/cors options, as `@rpcx/server-http`'s); none when absent. `allowAllCors()` is Go's `AllowAllCORSOptions()`. */
  cors?: CorsOptions;
  /** Path prefix the gateway answers under; the rest of the path is the service path. @default '/' */
  basePath?: string;
  /**
   * Largest request body in bytes, also after gzip inflation; a bigger one gets 413 (Go reads
   * any size). @default 64 MiB
   */
  maxBodyLength?: number;
  /** Largest request head in bytes; a bigger one gets 431. @default 1 MiB (Go's `DefaultMaxHeaderBytes`) */
  maxHeaderSize?: number;
  /**
   * A request's head must arrive within this long of its first byte; after it the connection
   * gets 408 and is closed. At most `requestTimeoutMs`. 0 = no limit. Go's gateway has none.
   * @default 60000 (Node's `headersTimeout`)
   */
  headersTimeoutMs?: number;
  /**
   * A whole request, head and body, must arrive within this long of its first byte (408 and
   * closed). 0 = no limit. Go's gateway has none. @default 300000 (Node's `requestTimeout`)
   */
  requestTimeoutMs?: number;
  /**
   * A response the client does not take (it stops reading) closes its connection when it has
   * not been handed to the OS after this long. 0 = never. Go has none. @default 60000
   */
  writeTimeoutMs?: number;
  /**
   * Most bytes of request bodies being received at once, over all connections; the body that
   * would pass it closes its connection. 0 = no cap. Go has none. @default 268435456 (256 MiB)
   */
  maxBufferedBytes?: number;
  /** Most connections open at once (Node's `server.maxConnections`); more are dropped. 0 = no limit. @default 0 */
  maxConnections?: number;
}

export interface GatewayOptions {
  /**
   * Where the servers of a service path are: a function giving a discovery for each service
   * path, or one `ServiceDiscovery` whose `clone(servicePath)` is used per service (Go's
   * `serviceDiscovery.Clone(servicePath)`). Any registry package's discovery fits.
   */
  discovery: ServiceDiscovery | ((servicePath: string) => ServiceDiscovery);
  /** Transports to dial servers with, by network. */
  transports: Transport[];
  /** Codecs for the XClients (the gateway itself never decodes payloads). */
  codecs?: Codec[];
  /** @default FailMode.Failover (rpcx-gateway's default) */
  failMode?: FailMode;
  /** @default SelectMode.RoundRobin (rpcx-gateway's default) */
  selector?: Selector | number;
  /** Anything else for each XClient (retries, timeouts, breaker, auth, group, …). */
  xclientOptions?: Partial<Omit<XClientOptions, 'servicePath' | 'discovery' | 'transports'>>;
  http?: GatewayHttpOptions;
  /**
   * `gateway`: a shared front for any HTTP client, listening where told (default all
   * interfaces). `agent`: a local sidecar for apps on the same host; it listens on loopback
   * only and refuses any other host. @default 'gateway'
   */
  mode?: GatewayMode;
  /** @default silent */
  logger?: Logger;
}

export interface GatewayAddress {
  host: string;
  port: number;
  /** `host:port` (IPv6 hosts in brackets). */
  address: string;
}

export interface Gateway {
  readonly mode: GatewayMode;
  /**
   * Listen for HTTP. Defaults: port 9981 (rpcx-gateway's `:9981`); host `0.0.0.0` in gateway
   * mode, `127.0.0.1` in agent mode. Port 0 picks a free port.
   */
  listen(host?: string, port?: number): Promise<GatewayAddress>;
  /** The request handler, to mount the gateway in an HTTP server of your own. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The XClients created so far, by service path. */
  readonly clients: ReadonlyMap<string, XClient>;
  /**
   * The Node HTTP server `listen` starts, with the `http` limits applied (for settings this
   * package has no option for). `handle` mounted in a server of your own gets the body, buffer
   * and write limits, but the head and request deadlines are that server's.
   */
  readonly server: http.Server;
  /** Stop listening, close every XClient and the discoveries the gateway created. */
  close(): Promise<void>;
}

/** httprouter's answer for methods without a route (rpcx-gateway registers POST, GET, PUT). */
const ALLOWED = 'GET, OPTIONS, POST, PUT';
const GZIP = 1;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;
const VALID_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const bytes = (s: string) => Buffer.from(s, 'latin1');

type Converted = { message: Message; error?: undefined } | { message?: undefined; error: string };

/**
 * rpcx-gateway's `HttpRequest2RpcxRequest`, in its order and with Go's error texts. One
 * difference: a `Content-Encoding: gzip` body is inflated here (on zlib's thread pool, capped
 * at `maxBody`) and compressed again when the frame is written (Go forwards the compressed
 * bytes with the gzip bit set: same frame).
 */
async function convert(req: IncomingMessage, servicePath: string, body: Buffer, compressors: CompressorRegistry, maxBody: number): Promise<Converted> {
  const m = new Message();
  const seq = rawHeader(req, 'x-rpcx-messageid');
  if (seq !== '') {
    const n = parseUint64(bytes(seq));
    if (typeof n === 'string') return { error: n };
    m.seq = n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if (rawHeader(req, 'x-rpcx-heartbeat') !== '') m.heartbeat = true;
  if (rawHeader(req, 'x-rpcx-oneway') !== '') m.oneway = true;
  if (rawHeader(req, 'content-encoding') === 'gzip') m.compressType = GZIP;
  const st = rawHeader(req, 'x-rpcx-serializetype');
  if (st === '') return { error: 'empty serialized type' };
  const serializeType = atoi(bytes(st));
  if (typeof serializeType === 'string') return { error: serializeType };
  // protocol.SerializeType is a byte and the header keeps its low four bits.
  m.serializeType = Number(BigInt.asUintN(4, serializeType));
  const meta = rawHeader(req, 'x-rpcx-meta');
  if (meta !== '') {
    const parsed = parseMetaQuery(headerText(meta));
    if (parsed.error !== undefined) return { error: parsed.error };
    m.metadata = parsed.metadata;
  }
  if (servicePath === '') return { error: 'empty servicepath' };
  m.servicePath = headerText(servicePath);
  const method = rawHeader(req, 'x-rpcx-servicemethod');
  if (method === '') return { error: 'empty servicemethod' };
  m.serviceMethod = headerText(method);
  m.payload = body;
  if (m.compressType === GZIP) {
    try {
      await decompressPayload(m, compressors, maxBody);
    } catch (err) {
      return { error: (err as Error).message };
    }
  }
  return { message: m };
}

/** Go `Header.Set(k, v)` then net/http's write: canonical name, names it cannot send skipped. */
function setHeader(res: ServerResponse, name: string, value: string): void {
  if (!VALID_NAME.test(name)) return;
  res.setHeader(canonicalHeaderKey(name), textHeaderValue(value));
}

/** gin's `ctx.String(200, err.Error())` after the error headers (rpcx-gateway's gin server). */
function fail(res: ServerResponse, text: string): void {
  setHeader(res, GatewayHeader.messageStatusType, 'Error');
  setHeader(res, GatewayHeader.errorMessage, text);
  const body = Buffer.from(text, 'utf8');
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}

/** gin's `ctx.Data(200, "application/octet-stream", payload)`. */
function ok(res: ServerResponse, payload: Uint8Array): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Length', payload.length);
  res.end(payload);
}

/**
 * The HTTP server with the gateway's limits. It listens, so Node enforces the head and request
 * deadlines itself; its check runs every quarter of the shorter one (Node: every 30 s), so
 * they hold to within a quarter.
 */
function createHttpServer(o: GatewayHttpOptions): http.Server {
  const requestTimeout = o.requestTimeoutMs ?? 300_000;
  let headersTimeout = o.headersTimeoutMs ?? 60_000;
  // Node refuses a head deadline past the request deadline.
  if (requestTimeout > 0 && (headersTimeout === 0 || headersTimeout > requestTimeout)) headersTimeout = requestTimeout;
  const shortest = Math.min(...[headersTimeout, requestTimeout].filter((ms) => ms > 0), 120_000);
  const server = http.createServer({
    maxHeaderSize: o.maxHeaderSize ?? 1 << 20,
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(shortest / 4))),
  });
  if (o.maxConnections) server.maxConnections = o.maxConnections;
  return server;
}

function normaliseBase(base: string | undefined): string {
  let b = base ?? '/';
  if (!b.startsWith('/')) b = '/' + b;
  if (!b.endsWith('/')) b += '/';
  return b;
}

export function createGateway(options: GatewayOptions): Gateway {
  const mode = options.mode ?? 'gateway';
  const base = normaliseBase(options.http?.basePath);
  const cors = options.http?.cors ? new Cors(options.http.cors) : undefined;
  const httpOptions = options.http ?? {};
  const maxBody = httpOptions.maxBodyLength ?? DEFAULT_MAX_MESSAGE_LENGTH;
  const writeTimeoutMs = httpOptions.writeTimeoutMs ?? 60_000;
  const maxBuffered = httpOptions.maxBufferedBytes ?? 256 * 1024 * 1024;
  /** Bytes of request bodies being received, over all connections. */
  let buffered = 0;
  const logger = options.logger ?? silentLogger;
  const failMode = options.failMode ?? FailMode.Failover;
  const compressors = new CompressorRegistry();
  const clients = new Map<string, XClient>();
  const discoveries = new Set<ServiceDiscovery>();
  const server = createHttpServer(httpOptions);
  let closed = false;
  let seq = 0;

  function clientFor(servicePath: string): XClient {
    let xc = clients.get(servicePath);
    if (xc) return xc;
    const d = options.discovery;
    const discovery = typeof d === 'function' ? d(servicePath) : d.clone(servicePath);
    discoveries.add(discovery);
    xc = new XClient({
      logger,
      ...options.xclientOptions,
      servicePath,
      discovery,
      transports: options.transports,
      codecs: options.codecs ?? options.xclientOptions?.codecs,
      // sendRaw keeps each request's own serialize type; raw (0) is always registered.
      serializeType: options.xclientOptions?.serializeType ?? SerializeType.None,
      failMode,
      selector: selectorFactory(options.selector) ?? options.xclientOptions?.selector ?? (() => selectorFor(SelectMode.RoundRobin)),
    });
    clients.set(servicePath, xc);
    return xc;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    let servicePath = rawHeader(req, 'x-rpcx-servicepath');
    if (servicePath === '') servicePath = path.slice(base.length);
    const messageId = rawHeader(req, 'x-rpcx-messageid');
    if (messageId !== '') res.setHeader(canonicalHeaderKey(GatewayHeader.messageId), textHeaderValue(headerText(messageId)));

    const converted = await convert(req, servicePath, body, compressors, maxBody);
    if (converted.error !== undefined) return fail(res, converted.error);
    const msg = converted.message;
    // Go's gateway numbers its requests itself (the client then uses its own seq on the wire).
    msg.seq = ++seq;

    let xc: XClient;
    if (closed) return fail(res, 'xClient is shut down');
    try {
      xc = clientFor(msg.servicePath);
    } catch (err) {
      return fail(res, (err as Error).message);
    }
    let reply: Message;
    try {
      reply = await xc.sendRaw(msg);
    } catch (err) {
      return fail(res, (err as Error).message);
    }
    if (msg.oneway) return ok(res, new Uint8Array(0));
    // Go's SendRaw hands back the reply's metadata map (not convertRes2Raw's), and with
    // Failover / Failtry nothing at all next to a service error.
    const hasMeta = Object.keys(reply.metadata).length > 0;
    const isError = reply.status === MessageStatus.Error && hasMeta;
    const keepMeta = !isError || (failMode !== FailMode.Failover && failMode !== FailMode.Failtry);
    if (keepMeta) for (const k of Object.keys(reply.metadata)) setHeader(res, k, reply.metadata[k]);
    if (isError) return fail(res, reply.metadata[MetaKey.ServiceError] ?? '');
    ok(res, reply.payload);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (cors?.apply(req, res)) return;
    const method = req.method ?? '';
    const path = requestPath(req.url ?? '/');
    if (path === undefined) {
      res.setHeader('Connection', 'close');
      return httpError(res, '400 Bad Request', 400);
    }
    const routed = path.startsWith(base) || path + '/' === base;
    if (!routed) return httpError(res, '404 page not found', 404);
    if (method !== 'GET' && method !== 'POST' && method !== 'PUT') {
      res.setHeader('Allow', ALLOWED);
      if (method === 'OPTIONS') {
        res.statusCode = 200;
        res.setHeader('Content-Length', 0);
        res.end();
      } else {
        httpError(res, 'Method Not Allowed', 405);
      }
      return;
    }
    if (Number(req.headers['content-length'] ?? 0) > maxBody) return tooLarge(res);
    pacePipelining(req, res);
    limitWrite(res);
    const chunks: Buffer[] = [];
    let size = 0;
    // The body so far counts against maxBufferedBytes until it is complete (or abandoned).
    let held = 0;
    const release = () => {
      buffered -= held;
      held = 0;
    };
    req.once('close', release);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        req.removeAllListeners('data');
        return tooLarge(res);
      }
      chunks.push(chunk);
      held += chunk.length;
      buffered += chunk.length;
      if (maxBuffered > 0 && buffered > maxBuffered) {
        const error = new ServerBufferFullError(maxBuffered);
        logger.warn(`rpcx-gateway: closing ${req.socket.remoteAddress}:${req.socket.remotePort}: ${error.message}`);
        req.socket.destroy(error);
      }
    });
    req.on('end', () => {
      release();
      if (size > maxBody) return;
      serve(req, res, path, Buffer.concat(chunks, size)).catch((err: Error) => {
        logger.warn(`rpcx-gateway: ${err.message}`);
        if (!res.headersSent) fail(res, err.message);
        else res.destroy();
      });
    });
  }

  /** A response the client does not take within writeTimeoutMs closes the connection. */
  function limitWrite(res: ServerResponse): void {
    if (writeTimeoutMs <= 0) return;
    res.once('prefinish', () => {
      // Everything is written: 'finish' follows once the OS has it all.
      const timer = setTimeout(() => {
        const error = new WriteTimeoutError(writeTimeoutMs);
        logger.warn(`rpcx-gateway: closing ${res.socket?.remoteAddress}:${res.socket?.remotePort}: ${error.message}`);
        res.destroy(error);
      }, writeTimeoutMs);
      timer.unref();
      const stop = () => clearTimeout(timer);
      res.once('finish', stop);
      res.once('close', stop);
    });
  }

  function tooLarge(res: ServerResponse): void {
    if (res.headersSent) return;
    res.setHeader('Connection', 'close');
    httpError(res, 'http: request body too large', 413);
  }

  server.on('request', handle);

  return {
    mode,
    clients,
    server,
    handle,
    async listen(host, port = 9981) {
      if (closed) throw new ServerClosedError();
      const h = host ?? (mode === 'agent' ? '127.0.0.1' : '0.0.0.0');
      if (mode === 'agent' && !LOOPBACK.test(h)) throw new ConfigError(`rpcx-gateway: agent mode listens on loopback only, not ${h}`);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, h, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const a = server.address() as AddressInfo;
      return { host: a.address, port: a.port, address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}` };
    },
    async close() {
      if (closed) return;
      closed = true;
      if (server.listening) {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await done;
      }
      const xcs = [...clients.values()];
      clients.clear();
      await Promise.all(xcs.map((xc) => xc.close()));
      await Promise.all([...discoveries].map((d) => d.close().catch(() => undefined)));
      discoveries.clear();
    },
  };
}
