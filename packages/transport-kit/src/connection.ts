/**
 * The connection life cycle every @rpcx transport shares. No Node API here: the browser
 * WebSocket client of @rpcx/transport-ws is built on it too.
 */
import { ConfigError, ConnectionError, DRAIN_NOTICE_BYTES, type Connection, type ConnectionHandler } from '@rpcx/core';

/** A transport factory's `closeTimeoutMs` when not given: how long `close()` waits for the peer, 5 s. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000;

export interface BaseConnectionOptions {
  network: string;
  remoteAddress: string;
  localAddress: string;
  /**
   * How long `close()` waits for the transport's orderly close (`endOutput()` until
   * `ended()`) before it calls `closeTimedOut()`; 0 waits forever.
   */
  closeTimeoutMs: number;
  /**
   * Runs work after the current callback: the flush of a turn's writes and every report to the
   * handler. Default: `process.nextTick` where there is one, `queueMicrotask` elsewhere.
   */
  schedule?: (fn: () => void) => void;
  /**
   * When a turn's writes go out. `'callback'` (default): by `schedule`, right after the callback
   * that wrote them. `'turn'`: at the end of the event-loop turn (`setImmediate`, where there is
   * one), so that a server answering many connections reads all that is ready before it sends
   * (see {@link EAGER_FLUSH_BYTES} for the exceptions). For a server's accepted connections.
   * Either way the first {@link EARLY_SEND_BYTES} of a batch may go out at once.
   */
  flush?: 'callback' | 'turn';
  /**
   * Send the first {@link EARLY_SEND_BYTES} of a batch inside `write`. Off for a transport whose
   * `sendFrames` hands the bytes to the peer's handler in the same thread (an in-process pipe):
   * there is nothing to overlap, and the peer's handler would run inside this `write`.
   * @defaultValue `true`
   */
  earlySend?: boolean;
}

/**
 * With `flush: 'turn'`, writes go out after the callback anyway once this much is queued, or
 * when the same connection reads again first: a connection with many calls in flight keeps its
 * replies flowing while it is still being read.
 */
export const EAGER_FLUSH_BYTES = 8 * 1024;

/**
 * Once this much is queued, what is queued goes out at once, inside `write`, and the rest of the
 * batch with the usual flush: one early send per read from the peer (and one before the first),
 * so a batch written in answer to a read sends its start early. With a few calls in flight on
 * one connection (16 × 600 B) both ends otherwise take turns, each idle while the other
 * encodes the whole batch; sent early, the peer starts on the first frames meanwhile: TS ↔ TS at
 * 16 in flight went from 56k to 129k calls/s (raw codec; bench/README.md, fourth round). Not after a
 * read of {@link FULL_READ_BYTES} or more: a peer whose data waits in the kernel is busy
 * already, and the extra send only costs (it took 6 % off 256 in flight).
 */
export const EARLY_SEND_BYTES = 2 * 1024;

/** A read at least this big turns {@link EARLY_SEND_BYTES} off for the writes that follow it. */
export const FULL_READ_BYTES = 32 * 1024;

const setImmediateOf = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;

export type ConnectionState = 'open' | 'closing' | 'closed';

const nextTick = (globalThis as { process?: { nextTick?: (fn: () => void) => void } }).process?.nextTick;
/** `queueMicrotask` is called bare: browsers throw "Illegal invocation" for one with a `this`. */
const defaultSchedule: (fn: () => void) => void = nextTick ? (fn) => nextTick(fn) : (fn) => queueMicrotask(fn);

/** What a handler threw, as the Error `onClose` reports. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new ConnectionError(`the connection's handler threw ${String(value)}`, { cause: value });
}

/**
 * The part of a `Connection` that is the same for every transport; a transport says only how
 * bytes go out, how input is started and stopped, and how the connection ends.
 *
 * What it does for every transport:
 * - `setHandler` once (a second call is a `ConfigError`); bytes that arrive before it, or while
 *   reading is paused, are held and delivered in order afterwards, never from inside
 *   `setHandler` or `resumeReading`;
 * - the frames written in one callback (with `flush: 'turn'`, in one event-loop turn) reach
 *   `sendFrames` together, once (or twice: the first {@link EARLY_SEND_BYTES} early), those side
 *   by side in memory joined into one view (`joinAdjacent`);
 * - `pauseReading` / `resumeReading` through `stopInput` / `startInput`;
 * - `onDrain`: once `pendingBytes` has reached `DRAIN_NOTICE_BYTES`, the next `checkDrain()`
 *   that finds it below reports it;
 * - `close()`: queued writes first, then `endOutput()`, and after `closeTimeoutMs`
 *   `closeTimedOut()`; one promise however often it is called, settled after `onClose`;
 * - `onClose` exactly once, from a later tick, after what was held has been delivered, with the
 *   first error (errors after the owner's `close()` are not reported: the owner chose to end).
 *
 * A subclass implements `sendFrames`, `bufferedBytes`, `endOutput` and `abort` (and, when its
 * transport can stop reading, `startInput` / `stopInput`), and calls `received(chunk)` for
 * incoming bytes, `checkDrain()` when the network has taken bytes, `failed(error)` when the
 * transport reports an error, and `ended()` when the transport is gone.
 */
export abstract class AbstractConnection implements Connection {
  readonly network: string;
  readonly remoteAddress: string;
  readonly localAddress: string;
  /** Passed in the options; a subclass may use it for a close of its own. */
  protected readonly closeTimeoutMs: number;

  readonly #schedule: (fn: () => void) => void;
  /** `flush: 'turn'` on a platform with `setImmediate`. */
  readonly #flushAtTurnEnd: boolean;
  #handler: ConnectionHandler | undefined;
  #state: ConnectionState = 'open';
  #paused = false;
  /** The owner called close() or destroy(): what still arrives is dropped. */
  #ownerDone = false;
  /** The transport called ended(). */
  #ended = false;
  /** Frames written this turn, handed to sendFrames once per turn. */
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** Incoming bytes not delivered yet: no handler, or paused. */
  #held: Uint8Array[] = [];
  #deliveryScheduled = false;
  /** pendingBytes reached DRAIN_NOTICE_BYTES: report onDrain once it is below. */
  #drainOwed = false;
  #error: Error | undefined;
  #notified = false;
  #closePromise: Promise<void> | undefined;
  #closeResolve: (() => void) | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** EARLY_SEND_BYTES, or Infinity with `earlySend: false`. */
  readonly #earlySendBytes: number;
  /** Queued bytes at which `write` sends at once: `#earlySendBytes`, or Infinity once used or after a full read. */
  #sendEarlyAt: number;

  constructor(options: BaseConnectionOptions) {
    this.network = options.network;
    this.remoteAddress = options.remoteAddress;
    this.localAddress = options.localAddress;
    this.closeTimeoutMs = options.closeTimeoutMs;
    this.#schedule = options.schedule ?? defaultSchedule;
    this.#flushAtTurnEnd = options.flush === 'turn' && setImmediateOf !== undefined;
    this.#earlySendBytes = (options.earlySend ?? true) ? EARLY_SEND_BYTES : Infinity;
    this.#sendEarlyAt = this.#earlySendBytes;
  }

  // ---- what a transport supplies ------------------------------------------------------

  /**
   * Send the frames written in one turn, in order (`bytes` is their total length). They are
   * the caller's no longer: they may be kept or joined without copying.
   */
  protected abstract sendFrames(frames: Uint8Array[], bytes: number): void;

  /** Bytes given to `sendFrames` that the network has not taken yet (part of `pendingBytes`). */
  protected abstract get bufferedBytes(): number;

  /**
   * Begin an orderly close after what was sent; the transport calls `ended()` once the peer
   * has answered it (or it cannot). Called once, by `close()`, after the last `sendFrames`.
   */
  protected abstract endOutput(): void;

  /**
   * Drop the connection now, unsent bytes and all; the transport calls `ended()` when it is
   * gone. Called by `destroy()` (with its error, if any) and, by default, by `closeTimedOut()`.
   */
  protected abstract abort(error: Error | undefined): void;

  /** Read from the network: the handler wants data, or `close()` reads to the peer's end. */
  protected startInput(): void {}

  /** Stop reading from the network (flow control then holds the peer back). */
  protected stopInput(): void {}

  /** `close()` took longer than `closeTimeoutMs`. Default: `abort(undefined)`. */
  protected closeTimedOut(): void {
    this.abort(undefined);
  }

  // ---- what a transport calls -----------------------------------------------------------

  /** Bytes from the peer: delivered now, held (no handler yet, or paused), or dropped after close(). */
  protected received(chunk: Uint8Array): void {
    // Writes held for the end of the turn go before this connection's next data is handled.
    if (this.#queue.length > 0) this.#flush();
    this.#sendEarlyAt = chunk.length < FULL_READ_BYTES ? this.#earlySendBytes : Infinity;
    if (this.#ownerDone || this.#ended) return;
    if (!this.#handler || this.#paused || this.#held.length > 0) {
      this.#held.push(chunk);
      return;
    }
    this.#deliver(chunk);
  }

  /** The network has taken bytes: report `onDrain` if it is owed and `pendingBytes` is low again. */
  protected checkDrain(): void {
    if (!this.#drainOwed || this.#state !== 'open' || this.pendingBytes >= DRAIN_NOTICE_BYTES) return;
    this.#drainOwed = false;
    try {
      this.#handler?.onDrain?.();
    } catch (error) {
      this.destroy(asError(error));
    }
  }

  /** An error of the transport, reported by `onClose` when it is the first and the owner has not closed. */
  protected failed(error: Error): void {
    if (this.#state === 'open' && !this.#error) this.#error = error;
  }

  /**
   * The transport is gone (closed by either side, or failed): settles `close()`, and reports
   * to the handler from a later tick, after any held data. `error` as for `failed`.
   */
  protected ended(error?: Error): void {
    if (this.#ended) return;
    if (error) this.failed(error);
    this.#ended = true;
    this.#state = 'closed';
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#drainOwed = false;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    // close() settles once onClose has been reported (or at once when there is no handler).
    if (this.#handler) this.#scheduleDelivery();
    else this.#closeResolve?.();
  }

  /** Sends what was written this turn now rather than at the end of the turn. */
  protected flushWrites(): void {
    this.#flush();
  }

  protected get state(): ConnectionState {
    return this.#state;
  }

  /** The error `onClose` will report, if any. */
  protected get error(): Error | undefined {
    return this.#error;
  }

  /** An `onDrain` is owed: a transport that must ask to hear when bytes leave asks now. */
  protected get drainOwed(): boolean {
    return this.#drainOwed;
  }

  /** The transport has called `ended()`. */
  protected get isEnded(): boolean {
    return this.#ended;
  }

  // ---- the Connection -------------------------------------------------------------------

  get closed(): boolean {
    return this.#state !== 'open';
  }

  get pendingBytes(): number {
    return this.#queuedBytes + (this.#ended ? 0 : this.bufferedBytes);
  }

  setHandler(handler: ConnectionHandler): void {
    if (this.#handler) throw new ConfigError('Connection.setHandler may be called only once');
    this.#handler = handler;
    if (this.#ended || this.#held.length > 0) this.#scheduleDelivery();
    if (this.#state === 'open' && !this.#paused) this.startInput();
  }

  write(frame: Uint8Array): void {
    // Writes after close()/destroy() are dropped, as there is nobody left to tell.
    if (this.#state !== 'open') return;
    this.#queuedBytes += frame.length;
    if (!this.#drainOwed && this.pendingBytes >= DRAIN_NOTICE_BYTES) this.#drainOwed = true;
    if (this.#queue.push(frame) === 1) {
      if (this.#flushAtTurnEnd) setImmediateOf!(this.#flush);
      else this.#schedule(this.#flush);
    } else if (this.#queuedBytes >= this.#sendEarlyAt) {
      // The flush scheduled for the batch's first frame still runs, for the rest (and onDrain).
      this.#sendEarlyAt = Infinity;
      this.#send();
    } else if (this.#flushAtTurnEnd && this.#queuedBytes >= EAGER_FLUSH_BYTES && this.#queuedBytes - frame.length < EAGER_FLUSH_BYTES) {
      // Crossed the mark with this frame: send after this callback after all.
      this.#schedule(this.#flush);
    }
  }

  pauseReading(): void {
    if (this.#paused) return;
    this.#paused = true;
    if (this.#state === 'open') this.stopInput();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#state !== 'open' || !this.#handler) return;
    this.startInput();
    if (this.#held.length > 0) this.#scheduleDelivery();
  }

  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise;
    this.#closePromise = new Promise<void>((resolve) => (this.#closeResolve = resolve));
    if (this.#ended) {
      if (this.#notified || !this.#handler) this.#closeResolve!();
      return this.#closePromise;
    }
    if (this.#state === 'open') {
      this.#flush();
      this.#state = 'closing';
      this.#ownerDone = true;
      this.#held = [];
      // The peer's end has to be read, paused or not; whatever data still comes is dropped.
      this.startInput();
      this.endOutput();
      const ms = this.closeTimeoutMs;
      if (!this.#ended && ms > 0 && Number.isFinite(ms)) this.#closeTimer = setTimeout(() => this.closeTimedOut(), ms);
    }
    return this.#closePromise;
  }

  destroy(error?: Error): void {
    if (this.#ended || (this.#state === 'closed' && this.#ownerDone)) return;
    this.#state = 'closed';
    this.#ownerDone = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#held = [];
    // The owner's error is reported as given, unless the transport failed first.
    if (error && !this.#error) this.#error = error;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.abort(error);
  }

  // ---- internals ------------------------------------------------------------------------

  readonly #flush = (): void => {
    this.#send();
    // A network that took it all at once gives no later sign (Node's socket emits no 'drain'
    // for a write it completed synchronously, however large): an owed onDrain is due now.
    if (this.#drainOwed) this.checkDrain();
  };

  /** What is queued goes to the transport. */
  #send(): void {
    const frames = this.#queue;
    if (frames.length === 0) return;
    const bytes = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#ended) return;
    this.sendFrames(joinAdjacent(frames), bytes);
  }

  #deliver(chunk: Uint8Array): boolean {
    try {
      this.#handler!.onData(chunk);
      return true;
    } catch (error) {
      // A throwing handler must not take the process down through a transport's callback.
      this.destroy(asError(error));
      return false;
    }
  }

  #scheduleDelivery(): void {
    if (this.#deliveryScheduled) return;
    this.#deliveryScheduled = true;
    this.#schedule(this.#deliverHeld);
  }

  readonly #deliverHeld = (): void => {
    this.#deliveryScheduled = false;
    // What came before the handler is delivered even when the peer has closed since.
    while (this.#held.length > 0 && !this.#paused && !this.#ownerDone) {
      if (!this.#deliver(this.#held.shift()!)) break;
    }
    if (!this.#ended) return;
    // Gone while paused: nobody will resume a connection that is gone, so report it now.
    this.#held = [];
    if (this.#notified) return;
    this.#notified = true;
    try {
      this.#handler!.onClose(this.#error);
    } finally {
      this.#closeResolve?.();
    }
  };
}

/** The largest view `joinAdjacent` makes: @rpcx/protocol's slab, so its frames join whole. */
export const JOIN_LIMIT = 64 * 1024;

/**
 * Frames that sit side by side in one buffer, joined into one view per run of up to
 * {@link JOIN_LIMIT} bytes: the same bytes in fewer pieces, nothing copied. `@rpcx/protocol`
 * cuts the frames it encodes from one slab, so a turn's frames usually make one run and the
 * socket gets one write instead of a write (or a copy) per frame. Larger runs are not made: a
 * caller that writes a big buffer in slices keeps its slices, and a stream transport its
 * per-write flow control.
 */
export function joinAdjacent(frames: Uint8Array[]): Uint8Array[] {
  if (frames.length < 2) return frames;
  const out: Uint8Array[] = [];
  let first = frames[0];
  let end = first.byteOffset + first.length;
  for (let i = 1; i < frames.length; i++) {
    const frame = frames[i];
    if (frame.buffer === first.buffer && frame.byteOffset === end && end + frame.length - first.byteOffset <= JOIN_LIMIT) {
      end += frame.length;
      continue;
    }
    out.push(viewOf(first, end));
    first = frame;
    end = frame.byteOffset + frame.length;
  }
  out.push(viewOf(first, end));
  return out;
}

/** `first`, or a view from its start to `end` of its buffer when frames were joined to it. */
function viewOf(first: Uint8Array, end: number): Uint8Array {
  return end === first.byteOffset + first.length ? first : new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset);
}

/**
 * Frames of one turn, joined into chunks of up to `limit` bytes; a frame of `limit` bytes or
 * more stays alone, uncopied. For transports whose every send has a fixed cost (a WebSocket
 * message, a stream write).
 */
export function coalesce(frames: Uint8Array[], limit: number): Uint8Array[] {
  if (frames.length === 1) return frames;
  const out: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const endRun = () => {
    if (run.length === 1) out.push(run[0]);
    else if (run.length > 1) out.push(concatBytes(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const frame of frames) {
    if (frame.length >= limit) {
      endRun();
      out.push(frame);
      continue;
    }
    if (runBytes + frame.length > limit) endRun();
    run.push(frame);
    runBytes += frame.length;
  }
  endRun();
  return out;
}

/** `chunks` in one new array of `length` bytes (their total). */
export function concatBytes(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
