import { SerializeType } from '@rpcx/core';
import { Message } from './message.js';

/**
 * A heartbeat request as Go's client sends it: empty service path and method, heartbeat
 * bit, MsgPack serialize type whatever the client's codec, payload = msgpack int64 of the
 * current Unix time in nanoseconds (`d3` + 8 bytes big-endian).
 */
export function heartbeatRequest(seq: number, nowNanos: bigint = currentNanos()): Message {
  const m = new Message();
  m.heartbeat = true;
  m.serializeType = SerializeType.MsgPack;
  m.seq = seq;
  const payload = new Uint8Array(9);
  payload[0] = 0xd3;
  new DataView(payload.buffer).setBigInt64(1, nowNanos);
  m.payload = payload;
  return m;
}

/** The timestamp a heartbeat carries, if it is the int64 msgpack Go writes. */
export function heartbeatTime(payload: Uint8Array): bigint | undefined {
  if (payload.length !== 9 || payload[0] !== 0xd3) return undefined;
  return new DataView(payload.buffer, payload.byteOffset, 9).getBigInt64(1);
}

function currentNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
