/**
 * @packageDocumentation
 * The browser client of @rpcx/transport-ws: rpcx over the standard WebSocket API, networks
 * `ws` and `wss`. This entry (`@rpcx/transport-ws/browser`) uses no Node API, so it bundles
 * for browsers as it is; it also runs wherever a WHATWG-style WebSocket exists (Deno, Bun,
 * Node 22+, or Node with the `ws` package passed as `WebSocket`).
 *
 * @module @rpcx/transport-ws/browser
 */
import { ConnectionError, DialError, UnsupportedError, type Connection, type DialOptions, type Transport } from '@rpcx/core';
import { checkNetwork, DEFAULT_CLOSE_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, dialWithDeadline } from '@rpcx/transport-kit';
import { WsConnection, type WsSocketEvents } from './connection.js';
import { DEFAULT_RPC_PATH, checkRpcPath, wsUrl } from './url.js';

/** The part of the standard WebSocket this client uses. */
export interface StandardWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, listener: (event: never) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
}

/** A WebSocket class: the browser's `WebSocket`, or a compatible one. */
export type WebSocketConstructor = new (url: string) => StandardWebSocket;

export interface BrowserWsTransportOptions {
  /** The WebSocket class to use. Default: `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** The HTTP path of the server's WebSocket endpoint (Go `RPCPath`). Default `/_rpcx_`. */
  rpcPath?: string;
  /** Dial timeout when the dial's `timeoutMs` is not given, in ms; 0 waits forever. Default 1000. */
  connectTimeoutMs?: number;
  /** How long `Connection.close()` waits for the server's close frame. Default 5000. */
  closeTimeoutMs?: number;
}

const NETWORKS = ['ws', 'wss'] as const;

/** A browser may only send 1000 or 4000-4999: 4000 tells the server the client gave up. */
const ABORT_CODE = 4000;

interface MessageEventLike {
  data: unknown;
}
interface CloseEventLike {
  code: number;
  reason: string;
}

const encoder = new TextEncoder();

function toBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // A text message: its UTF-8 bytes are the bytes the server sent.
  if (typeof data === 'string') return encoder.encode(data);
  throw new ConnectionError(`unexpected WebSocket message data: ${Object.prototype.toString.call(data)}`);
}

/**
 * A client-only rpcx transport over the standard WebSocket API, for browsers. Dial
 * `ws@host:port` or `wss@host:port`; the browser sends its own Origin header (Go's server
 * accepts any). `listen` is not supported. Browsers report no reason for a failed connection,
 * so dial errors say only that it failed.
 */
export function browserWsTransport(options: BrowserWsTransportOptions = {}): Transport {
  const rpcPath = checkRpcPath(options.rpcPath ?? DEFAULT_RPC_PATH);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  return {
    networks: NETWORKS,
    listen: async () => {
      throw new UnsupportedError('@rpcx/transport-ws/browser can only dial: listen with wsTransport() in Node');
    },
    dial: async (network, address, dialOptions: DialOptions = {}) => {
      checkNetwork('@rpcx/transport-ws/browser', NETWORKS, network);
      const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!Ctor) throw new UnsupportedError('no WebSocket here: pass one as browserWsTransport({ WebSocket })');
      const url = wsUrl(network, address, rpcPath);
      return dialWithDeadline({ network, address, connectTimeoutMs }, dialOptions, (givenUp) => open(Ctor, network, address, url, closeTimeoutMs, givenUp));
    },
  };
}

/** Opens the WebSocket; settles with its connection or with why it failed. */
function open(
  Ctor: WebSocketConstructor,
  network: string,
  address: string,
  url: string,
  closeTimeoutMs: number,
  givenUp: AbortSignal,
): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    let ws: StandardWebSocket;
    try {
      ws = new Ctor(url);
    } catch (error) {
      // A malformed URL, or a port the browser blocks.
      throw new DialError(`websocket.Dial ${url}: ${(error as Error).message}`, { cause: error });
    }
    ws.binaryType = 'arraybuffer';
    let settled = false;
    // Events go to the connection once it exists; before that they settle the dial.
    let events: WsSocketEvents | undefined;

    const fail = (error?: Error) => {
      if (settled) return;
      settled = true;
      givenUp.removeEventListener('abort', onGiveUp);
      // The error and close listeners stay: some WebSocket classes (the `ws` package's)
      // throw an error event that has no listener.
      ws.removeEventListener('message', onMessage);
      ws.close(ABORT_CODE);
      if (error) reject(error);
    };
    const onGiveUp = () => fail();
    const onOpen = () => {
      if (settled) return;
      settled = true;
      givenUp.removeEventListener('abort', onGiveUp);
      resolve(
        new WsConnection(
          {
            send: (data) => ws.send(data),
            get bufferedAmount() {
              return ws.bufferedAmount;
            },
            close: (code) => ws.close(code),
            terminate: () => ws.close(ABORT_CODE),
          },
          {
            network,
            remoteAddress: address,
            // A page cannot see its own end of the connection.
            localAddress: '',
            closeTimeoutMs,
            attach: (e) => (events = e),
          },
        ),
      );
    };
    const onMessage = (event: MessageEventLike) => events?.message(toBytes(event.data));
    const onError = (event: unknown) => {
      if (events) events.error(new ConnectionError('WebSocket error'));
      else fail(new DialError(`websocket.Dial ${url}: connection failed`, { cause: event }));
    };
    const onClose = (event: CloseEventLike) => {
      if (events) events.close(event.code, event.reason);
      else fail(new DialError(`websocket.Dial ${url}: closed with code ${event.code}`, { cause: event }));
    };

    ws.addEventListener('open', onOpen);
    ws.addEventListener('message', onMessage);
    ws.addEventListener('error', onError);
    ws.addEventListener('close', onClose);
    givenUp.addEventListener('abort', onGiveUp, { once: true });
  });
}
