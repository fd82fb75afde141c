import type dgram from 'node:dgram';
import { errors, events, type QUICConnection, type QUICStream } from '@matrixai/quic';

/**
 * @matrixai/quic drives quiche through its own event objects: every stream write and read
 * dispatches an event that makes the connection call quiche's `send()`, and every packet that
 * call produces is one more event (a new Event object, `Object.defineProperties` on it, an
 * "all events" re-dispatch, an async handler) before the UDP send. With small rpcx frames
 * that is several events and a datagram per frame, and most of a call's CPU time (see the
 * README's Performance section). Per connection this:
 * - runs the connection's `send()` once per event-loop turn (`setImmediate`) however often it
 *   is asked for, and once the connection is established without making the receipt of the
 *   next datagram wait for it, so that the acknowledgements of the requests that came in one
 *   poll, the replies written meanwhile and the flow-control updates of the reads leave in as
 *   few packets as they fit in;
 * - asks for it directly instead of through the stream's event;
 * - hands each packet to the UDP socket directly, with the library's own event as the
 *   fallback when that fails (socket closed, send error), so that errors end where they did;
 * - after each received datagram, looks at the connection's one stream directly instead of
 *   walking quiche's lists of readable and writable streams: each walk goes through a native
 *   iterator that costs about 30 µs (measured), two per datagram. The lists are still walked
 *   when the stream is not readable but something is (a stream we do not know yet), while a
 *   writer waits for flow-control credit, when there is not exactly one stream, and every
 *   `FULL_SCAN_EVERY` datagrams, so an extra stream the peer opens is still seen (and refused).
 * The packets on the wire are quiche's as before; only fewer and fuller.
 */
export function speedUp(connection: QUICConnection): void {
  const internal = connection as unknown as Internal;
  const udp = internal.socket?.socket;
  const flush = internal.send;
  const askForSend = internal.handleEventQUICStreamSend;
  const dispatch = internal.dispatchEvent;
  const streams = internal.streamMap;
  const scan = internal.processStreams;
  const conn = internal.conn;
  // Not the library version this was written against: leave it as it is.
  if (!udp || !conn || typeof flush !== 'function' || typeof askForSend !== 'function' || typeof dispatch !== 'function' || typeof scan !== 'function' || !(streams instanceof Map)) {
    return;
  }

  let sinceScan = 0;
  internal.processStreams = function (this: unknown) {
    if (streams.size !== 1 || ++sinceScan >= FULL_SCAN_EVERY) {
      sinceScan = 0;
      return scan.call(connection);
    }
    const [[id, stream]] = streams as Map<number, QUICStream & StreamInternal>;
    if (stream.resolveWritableP || (!conn.streamReadable(id) && conn.isReadable())) {
      sinceScan = 0;
      return scan.call(connection);
    }
    if (conn.streamReadable(id)) stream.read();
  };

  let next: Promise<void> | undefined;
  internal.send = function (this: unknown) {
    next ??= new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        next = undefined;
        // Stopped since it was asked for (the library asks only while it runs): nothing to send.
        flush.call(connection).then(resolve, (error: unknown) => (error instanceof errors.ErrorQUICConnectionNotRunning ? resolve() : reject(error)));
      }),
    );
    if (!internal.secureEstablished) return next;
    // Established: the datagrams of one poll are all received before the one send that
    // answers them (the library waits for each datagram's send before taking the next).
    // A failed send has already reported itself as the connection's error event.
    next.catch(noop);
    return Promise.resolve();
  };

  internal.dispatchEvent = function (this: unknown, event: Event) {
    if (event instanceof events.EventQUICConnectionSend && !internal.socket!.closed) {
      const { msg, port, address } = event.detail as { msg: Uint8Array; port: number; address: string };
      try {
        udp.send(msg, port, address, (error) => {
          if (error) dispatch.call(connection, event);
        });
        return true;
      } catch {
        // The library's handler knows what to do.
      }
    }
    return dispatch.call(connection, event);
  };

  const set = streams.set.bind(streams);
  streams.set = (id, stream) => {
    const streamDispatch = stream.dispatchEvent;
    stream.dispatchEvent = function (this: unknown, event: Event) {
      if (event instanceof events.EventQUICStreamSend) {
        askForSend().catch(noop);
        return true;
      }
      return streamDispatch.call(stream, event);
    };
    return set(id, stream);
  };
}

/** Datagrams between two full walks of quiche's stream lists. */
const FULL_SCAN_EVERY = 16;

interface StreamInternal {
  /** Set once a write had to wait for flow-control credit. */
  resolveWritableP?: () => void;
  read(): void;
}

interface Internal {
  secureEstablished?: boolean;
  conn?: { streamReadable(id: number): boolean; isReadable(): boolean };
  processStreams?: () => void;
  socket?: { socket?: dgram.Socket; closed: boolean };
  send?: () => Promise<void>;
  handleEventQUICStreamSend?: () => Promise<void>;
  dispatchEvent?: (event: Event) => boolean;
  streamMap?: Map<unknown, QUICStream>;
}

function noop(): void {}
