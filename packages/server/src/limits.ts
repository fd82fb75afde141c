import { DRAIN_NOTICE_BYTES } from '@rpcx/core';
import { DEFAULT_MAX_MESSAGE_LENGTH, DEFAULT_MAX_METADATA_KEYS, DEFAULT_MAX_METADATA_LENGTH } from '@rpcx/protocol';

/**
 * The server's limits and timeouts, every one with a default (see `ServerOptions` and the
 * README's table, which sets each against Go's).
 */
export interface ServerLimits {
  readonly maxMessageLength: number;
  readonly maxDecompressedLength: number;
  readonly maxPreAuthLength: number;
  readonly maxMetadataKeys: number;
  readonly maxMetadataLength: number;
  readonly idleTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly writeTimeoutMs: number;
  readonly writeHighWaterMark: number;
  readonly maxBufferedBytes: number;
  readonly maxConnections: number;
}

export const SERVER_DEFAULTS: ServerLimits = {
  maxMessageLength: DEFAULT_MAX_MESSAGE_LENGTH,
  maxDecompressedLength: 32 * 1024 * 1024,
  maxPreAuthLength: 1024 * 1024,
  maxMetadataKeys: DEFAULT_MAX_METADATA_KEYS,
  maxMetadataLength: DEFAULT_MAX_METADATA_LENGTH,
  idleTimeoutMs: 5 * 60_000,
  frameTimeoutMs: 60_000,
  writeTimeoutMs: 60_000,
  writeHighWaterMark: 1024 * 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
  maxConnections: 0,
};

export function resolveLimits(options: Partial<ServerLimits>): ServerLimits {
  const limits: { -readonly [K in keyof ServerLimits]: number } = { ...SERVER_DEFAULTS };
  for (const key of Object.keys(SERVER_DEFAULTS) as (keyof ServerLimits)[]) {
    const value = options[key];
    if (value !== undefined) limits[key] = value;
  }
  // Transports promise onDrain only from DRAIN_NOTICE_BYTES on: a lower mark could wait forever.
  return { ...limits, writeHighWaterMark: Math.max(limits.writeHighWaterMark, DRAIN_NOTICE_BYTES) };
}

/**
 * Bytes held for requests not yet complete (partial frames, HTTP bodies being read), over all
 * connections of a server, against one cap.
 */
export class BufferBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Count `delta` more bytes (or fewer, when negative); false when the total passes the cap. */
  adjust(delta: number): boolean {
    this.used += delta;
    return this.limit <= 0 || delta <= 0 || this.used <= this.limit;
  }

  get bytes(): number {
    return this.used;
  }
}
