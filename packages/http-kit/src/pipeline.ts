import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Most requests of one connection awaiting their response before reading it pauses. Browsers
 * and HTTP clients send one at a time (undici pipelines up to 10 when told to).
 */
export const MAX_PIPELINED_REQUESTS = 16;

const open = new WeakMap<object, { count: number; paused: boolean; awaitingDrain: boolean }>();

/**
 * Node's HTTP server reads pipelined requests as fast as they arrive while their responses
 * are still being made, and stops only once finished responses go unread; a client that
 * sends without reading could start any number of calls. Call this for every request: while
 * more than `MAX_PIPELINED_REQUESTS` of a connection's requests await their response, reading
 * it is paused (Node's own pausing goes on as before).
 */
export function pacePipelining(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  let state = open.get(socket);
  if (!state) {
    state = { count: 0, paused: false, awaitingDrain: false };
    open.set(socket, state);
  }
  const s = state;
  s.count++;
  if (s.count > MAX_PIPELINED_REQUESTS && !s.paused) {
    s.paused = true;
    socket.pause();
  }
  let done = false;
  // Resuming while the socket's own write buffer is full would undo Node's pause for a peer
  // that does not read (a finished response is only handed to the socket, not read): wait
  // for 'drain' first.
  const resumeWhenDrained = () => {
    if (!s.paused || s.count > MAX_PIPELINED_REQUESTS || socket.destroyed || s.awaitingDrain) return;
    if (socket.writableNeedDrain) {
      s.awaitingDrain = true;
      socket.once('drain', () => {
        s.awaitingDrain = false;
        resumeWhenDrained();
      });
      return;
    }
    s.paused = false;
    socket.resume();
  };
  const finished = () => {
    if (done) return;
    done = true;
    s.count--;
    resumeWhenDrained();
  };
  res.once('finish', finished);
  res.once('close', finished);
}
