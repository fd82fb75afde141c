/**
 * One port, three protocols, as Go rpcx's cmux set-up: a connection whose first byte is
 * rpcx's magic stays rpcx; one that starts like an HTTP request goes to a Node `http.Server`
 * (created once per rpcx Server and never listening itself), where each request is JSON-RPC
 * 2.0 when it carries `X-JSONRPC-2.0: true` and the HTTP gateway otherwise.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ServerBufferFullError, type Connection } from '@rpcx/core';
import { Cors, httpError, pacePipelining, rawHeader, type CorsOptions } from '@rpcx/http-kit';
import type { ConnectionOutlet, ForeignConnectionSink, ForeignProtocol, ForeignProtocolHandler, ProtocolHost } from '@rpcx/server';
import { RequestClock } from './clock.js';
import { serveGateway } from './gateway.js';
import { serveJsonRpc } from './jsonrpc.js';
import { HttpPeer } from './peer.js';
import { ConnectionStream } from './stream.js';

/** What `httpGateway()` serves, and its limits. Every option has Go's behaviour as default. */
export interface HttpGatewayOptions {
  /** Serve the HTTP gateway: any HTTP request without `X-JSONRPC-2.0: true`. @default true (Go: `DisableHTTPGateway` false) */
  gateway?: boolean;
  /** Serve JSON-RPC 2.0: HTTP requests with `X-JSONRPC-2.0: true`. @default true (Go: `DisableJSONRPC` false) */
  jsonRpc?: boolean;
  /** CORS for both (Go `SetCORS`); none when absent. `allowAllCors()` is Go's `AllowAllCORSOptions()`. */
  cors?: CorsOptions;
  /**
   * Networks whose connections may speak HTTP. Go multiplexes only its TCP listeners.
   * @default ['tcp', 'tcp4', 'tcp6']
   */
  networks?: string[];
  /** Largest request body, in bytes; a bigger one is answered 413 (Go has no limit). @default the server's `maxMessageLength` (64 MiB) */
  maxBodyLength?: number;
  /** Largest request head, in bytes; a bigger one is answered 431. @default 1 MiB (Go's `DefaultMaxHeaderBytes`) */
  maxHeaderSize?: number;
  /**
   * A request's head must be complete this long after its first byte, or the connection gets
   * `408` and is closed (`HttpHeadersTimeoutError`). 0 = no limit. Go's gateway has none.
   * @default 60000 (Node's `headersTimeout`)
   */
  headersTimeoutMs?: number;
  /**
   * A whole request, head and body, must be received this long after its first byte, or the
   * connection gets `408` and is closed (`HttpRequestTimeoutError`). 0 = no limit. Go's gateway
   * has none. @default 300000 (Node's `requestTimeout`)
   */
  requestTimeoutMs?: number;
}

/** The methods cmux's `HTTP1Fast` matcher knows: the first request of a gateway connection must use one. */
const CMUX_METHODS = new Set(['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT']);

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/;

/**
 * Whether a first chunk can be the start of an HTTP/1 request line: a method token, then a
 * space, or a line end (`GET\r\n`, which gets Go's 400 rather than being dropped).
 */
function looksLikeHttp(chunk: Uint8Array): boolean {
  const head = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.length, 32)).toString('latin1');
  const end = head.search(/[ \r\n]/);
  const method = end < 0 ? head : head.slice(0, end);
  return method.length > 0 && TOKEN.test(method);
}

/** What the front keeps for one HTTP connection. */
interface HttpConnectionState {
  readonly peer: HttpPeer;
  readonly clock: RequestClock;
  /** The response to the latest request. */
  current?: ServerResponse;
}

const STATE = Symbol('rpcx.httpConnection');
type Stream = ConnectionStream & { [STATE]?: HttpConnectionState };

const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

/** Go's net/http answer to a request it cannot parse, written straight to the connection. */
function badRequest(status: string, detail?: string): string {
  const body = detail === undefined ? status : `${status}: ${detail}`;
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * Go rpcx's HTTP gateway and JSON-RPC 2.0 on the rpcx port: `new Server({ ..., http: httpGateway() })`.
 * Go's server turns both on by default; here they are this one line. A TCP connection whose
 * first byte is not rpcx's magic and that starts like an HTTP/1 request is then read as HTTP.
 */
export function httpGateway(options: HttpGatewayOptions = {}): ForeignProtocol {
  return { name: 'http', attach: (host) => new HttpFront(host, options) };
}

/** The HTTP side of one Server: gateway and JSON-RPC on the connections it hands over. */
class HttpFront implements ForeignProtocolHandler {
  private readonly server: http.Server;
  private readonly gateway: boolean;
  private readonly jsonRpc: boolean;
  private readonly cors: Cors | undefined;
  private readonly networks: ReadonlySet<string>;
  private readonly maxBody: number;
  private readonly headersTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly host: ProtocolHost,
    options: HttpGatewayOptions,
  ) {
    this.gateway = options.gateway ?? true;
    this.jsonRpc = options.jsonRpc ?? true;
    this.cors = options.cors ? new Cors(options.cors) : undefined;
    this.networks = new Set(options.networks ?? ['tcp', 'tcp4', 'tcp6']);
    this.maxBody = options.maxBodyLength ?? host.limits.maxMessageLength;
    this.headersTimeoutMs = options.headersTimeoutMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 300_000;
    // This server never listens, so Node's own timeouts would never be checked: RequestClock
    // keeps them, and the rpcx Server's idle timeout closes connections between requests.
    this.server = http.createServer({ maxHeaderSize: options.maxHeaderSize ?? 1 << 20, requestTimeout: 0, requireHostHeader: false });
    this.server.keepAliveTimeout = 0;
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.onRequest(req, res));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable && err.code !== 'ECONNRESET') {
        socket.end(badRequest(err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'));
      } else {
        socket.destroy();
      }
    });
  }

  adopt(connection: Connection, first: Uint8Array, outlet: ConnectionOutlet): ForeignConnectionSink | undefined {
    // With both off the port is rpcx-only.
    if (!this.gateway && !this.jsonRpc) return undefined;
    if (!this.networks.has(connection.network) || !looksLikeHttp(first)) return undefined;
    const stream: Stream = new ConnectionStream(connection, outlet, this.maxBody + (1 << 20));
    const peer = new HttpPeer(connection);
    const clock = new RequestClock(this.headersTimeoutMs, this.requestTimeoutMs, (error) => {
      this.host.logger.warn(`rpcx: closing ${connection.remoteAddress}: ${error.message}`);
      const res = stream[STATE]!.current;
      if (res && res.headersSent && !res.writableFinished) {
        connection.destroy(error);
      } else {
        // Node's answer to a request that took too long.
        outlet.write(Buffer.from(REQUEST_TIMEOUT, 'latin1'));
        void connection.close();
      }
    });
    stream[STATE] = { peer, clock };
    this.server.emit('connection', stream);
    return {
      data: (chunk) => {
        clock.received();
        stream.feed(chunk);
      },
      drained: () => stream.drained(),
      get busy() {
        return clock.busy;
      },
      closed: (error) => {
        clock.stop();
        peer.lost(error);
        stream.gone();
      },
    };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const stream = req.socket as unknown as Stream;
    const state = stream[STATE]!;
    const { peer, clock } = state;
    clock.head();
    state.current = res;
    req.once('end', () => clock.bodyEnd());
    let answered = false;
    const done = () => {
      if (answered) return;
      answered = true;
      clock.responseDone();
    };
    res.once('finish', done);
    res.once('close', done);
    pacePipelining(req, res);
    const first = stream.requests++ === 0;
    const isJsonRpc = this.jsonRpc && rawHeader(req, 'x-jsonrpc-2.0') === 'true';
    // cmux routes a connection by its first request and closes it when nothing matches.
    if (!isJsonRpc && (!this.gateway || (first && !CMUX_METHODS.has(req.method ?? '')))) {
      stream.destroy();
      return;
    }
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      // Go's answer, before any handler (Node's own would differ).
      stream.end(badRequest('400 Bad Request', 'missing required Host header'));
      return;
    }
    // Go sends no `Connection: keep-alive` (nor Node's `Keep-Alive`) on HTTP/1.1.
    if (res.shouldKeepAlive) res.removeHeader('connection');
    if (this.host.shuttingDown) {
      res.setHeader('Connection', 'close');
      return httpError(res, 'http: Server closed', 503);
    }
    if (this.cors?.apply(req, res)) return;

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBody) return this.tooLarge(res);
    const chunks: Buffer[] = [];
    let size = 0;
    // The body so far counts against the server's cap on bytes held for incomplete requests.
    const budget = this.host.budget;
    let budgeted = 0;
    const unbudget = () => {
      budget.adjust(-budgeted);
      budgeted = 0;
    };
    req.once('close', unbudget);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxBody) {
        req.removeAllListeners('data');
        this.tooLarge(res);
        return;
      }
      chunks.push(chunk);
      budgeted += chunk.length;
      if (!budget.adjust(chunk.length)) {
        const error = new ServerBufferFullError(budget.limit);
        this.host.logger.warn(`rpcx: closing ${peer.connection.remoteAddress}: ${error.message}`);
        stream.destroy(error);
      }
    });
    req.on('end', () => {
      unbudget();
      if (size > this.maxBody) return;
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      const serve = isJsonRpc ? serveJsonRpc : serveGateway;
      serve(this.host, peer, req, res, body).catch((err: Error) => {
        this.host.logger.warn(`rpcx: ${isJsonRpc ? 'JSON-RPC' : 'gateway'} request: ${err.message}`);
        if (!res.headersSent) httpError(res, err.message, 500);
        else res.destroy();
      });
    });
  }

  private tooLarge(res: ServerResponse): void {
    if (res.headersSent) return;
    res.setHeader('Connection', 'close');
    httpError(res, 'http: request body too large', 413);
  }
}
