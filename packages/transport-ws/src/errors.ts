import { DialError } from '@rpcx/core';
import { dialFailureText, errnoOf, goErrnoText } from '@rpcx/transport-kit';

/**
 * A failed WebSocket dial, worded as Go's websocket.DialError:
 * `websocket.Dial ws://127.0.0.1:1/_rpcx_: dial tcp 127.0.0.1:1: connect: connection refused`,
 * `websocket.Dial ws://…: bad status 404 Not Found`.
 */
export function wsDialError(url: string, address: string, reason: Error | string): DialError {
  if (typeof reason === 'string') return new DialError(`websocket.Dial ${url}: ${reason}`);
  const code = errnoOf(reason);
  const fromNetwork = goErrnoText(code) !== undefined || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
  const text = fromNetwork ? `dial tcp ${address}: ${dialFailureText(reason)}` : reason.message;
  return new DialError(`websocket.Dial ${url}: ${text}`, { cause: reason });
}
