/**
 * One KCP conversation as a `Connection`: KCP core, FEC and crypt for one peer. The dialer and
 * the listener own the UDP socket and hand this class the datagrams that belong to it; it
 * hands them back the datagrams to send.
 */
import { ConnectionError, DialError } from '@rpcx/core';
import { AbstractConnection } from '@rpcx/transport-kit';
import type { BlockCrypt } from './crypt.js';
import {
  FEC_HEADER_SIZE,
  FEC_HEADER_SIZE_PLUS2,
  FecDecoder,
  FecEncoder,
  TYPE_CONTROL,
  TYPE_DATA,
  TYPE_PARITY,
  readU16,
  readU32,
} from './fec.js';
import { CMD_PUSH, CMD_WASK, DEAD_LINK, IKCP_OVERHEAD, Kcp, currentMs, type KcpSettings } from './kcp.js';
import { CONTROL_FIN, CONTROL_RST, controlPacket, parseControl, seal } from './packet.js';
import { StatsSink, type KcpStats } from './stats.js';

/** Everything a conversation is configured with. */
export interface SessionSettings extends KcpSettings {
  dataShards: number;
  parityShards: number;
  crypt: BlockCrypt;
  ackNoDelay: boolean;
  closeTimeoutMs: number;
  idleTimeoutMs: number;
  simulatedLoss: number | ((datagram: Uint8Array) => boolean);
}

/** How a conversation reaches the network; supplied by the dialer or the listener. */
export interface SessionWire {
  send(datagram: Uint8Array): void;
  /**
   * The conversation is over: free its socket (dialer) or its slot (listener). `sent` is the
   * control datagram it sent its peer last (FIN or RST), if any.
   */
  release(connection: KcpConnection, sent: number | undefined): void;
}

export interface KcpConnectionInit {
  conv: number;
  settings: SessionSettings;
  wire: SessionWire;
  stats: KcpStats;
  remoteAddress: string;
  localAddress: string;
}

/** Whether the first data datagram of an unknown peer may open a conversation. */
export function opensConversation(body: Uint8Array, rcvWnd: number): boolean {
  // A window probe (this package's dial) or data near the start of a stream (kcp-go's dial,
  // which sends its first request straight away).
  for (let at = FEC_HEADER_SIZE_PLUS2; body.length - at >= IKCP_OVERHEAD; ) {
    const cmd = body[at + 4];
    const sn = readU32(body, at + 12);
    if (cmd === CMD_WASK || (cmd === CMD_PUSH && sn < rcvWnd)) return true;
    at += IKCP_OVERHEAD + readU32(body, at + 20);
  }
  return false;
}

/** The conversation id of a data datagram (from its first segment), or undefined. */
export function dataConv(body: Uint8Array): number | undefined {
  if (body.length < FEC_HEADER_SIZE_PLUS2 + IKCP_OVERHEAD) return undefined;
  return readU32(body, FEC_HEADER_SIZE_PLUS2);
}

/** Data taken from KCP is handed over in chunks of up to this size. */
const MAX_CHUNK = 256 * 1024;

/**
 * One KCP conversation as a `Connection` (the life cycle is @rpcx/transport-kit's
 * `AbstractConnection`): written frames go into KCP once per turn; what KCP delivers in order
 * is handed on while reading; paused, it stays in KCP's receive queue, so the advertised window
 * shrinks and the peer stops sending.
 */
export class KcpConnection extends AbstractConnection {
  readonly conv: number;

  readonly #settings: SessionSettings;
  readonly #wire: SessionWire;
  readonly #stats: StatsSink;
  readonly #kcp: Kcp;
  readonly #encoder: FecEncoder;
  readonly #decoder: FecDecoder;
  readonly #drop: (datagram: Uint8Array) => boolean;

  /** startInput() was called and stopInput() was not since. */
  #reading = false;
  #established = false;
  #onEstablished: ((rejectWith?: Error) => void) | undefined;

  #timer: NodeJS.Timeout | undefined;
  #timerDue = 0;
  #dialTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastReceiveMs = currentMs();
  #afterInputPending = false;
  #ackFlushPending = false;
  #released = false;

  constructor(init: KcpConnectionInit) {
    super({
      network: 'kcp',
      remoteAddress: init.remoteAddress,
      localAddress: init.localAddress,
      closeTimeoutMs: init.settings.closeTimeoutMs,
    });
    const s = init.settings;
    this.conv = init.conv >>> 0;
    this.#settings = s;
    this.#wire = init.wire;
    this.#stats = new StatsSink(init.stats);
    this.#kcp = new Kcp(this.conv, s, (buffer, size) => this.#output(buffer, size), this.#stats);
    this.#encoder = new FecEncoder(s.dataShards, s.parityShards);
    this.#decoder = new FecDecoder(s.dataShards, s.parityShards, this.#stats);
    const loss = s.simulatedLoss;
    this.#drop = typeof loss === 'function' ? loss : loss > 0 ? () => Math.random() < loss : () => false;
    if (s.idleTimeoutMs > 0) this.#armIdle(s.idleTimeoutMs);
  }

  /** This conversation's counters (FEC recoveries, retransmissions, …). */
  get stats(): Readonly<KcpStats> {
    return this.#stats.own;
  }

  /** Segments sent and not yet acknowledged, plus those waiting for the window. */
  get unacknowledgedSegments(): number {
    return this.#kcp.waitSnd;
  }

  protected override get bufferedBytes(): number {
    return this.#kcp.sndQueueBytes;
  }

  protected override sendFrames(frames: Uint8Array[], bytes: number): void {
    for (const frame of frames) if (frame.length > 0) this.#kcp.send(frame);
    this.#stats.add('bytesSent', bytes);
    this.#flushNow();
  }

  protected override startInput(): void {
    this.#reading = true;
    // Delivery reopens the window; #deliver sends the peer a window update if it was shut.
    setImmediate(() => {
      if (this.state === 'closed') return;
      this.#deliver();
      this.#armIfBusy(this.#kcp.interval);
    });
  }

  protected override stopInput(): void {
    // What arrives now stays in KCP's receive queue; once it holds a window's worth, the
    // advertised window is 0 and the peer stops sending.
    this.#reading = false;
  }

  protected override endOutput(): void {
    this.#checkClosing();
  }

  protected override closeTimedOut(): void {
    // The peer did not acknowledge everything in time: say goodbye anyway.
    this.#finishClose();
  }

  protected override abort(): void {
    this.#sendControl(CONTROL_RST);
    this.#end(undefined, CONTROL_RST);
  }

  // ---- used by the dialer and the listener --------------------------------------------

  /**
   * Start a dial: probe the peer's window (WASK) until any datagram of this conversation
   * comes back. `done` is called once, with an error if the peer refused (RST).
   */
  startDial(done: (error?: Error) => void, probeMs: number): void {
    this.#onEstablished = done;
    const probe = () => {
      this.#dialTimer = undefined;
      if (this.#established || this.state === 'closed') return;
      this.#kcp.askWindow();
      this.#kcp.flush();
      this.#dialTimer = setTimeout(probe, probeMs);
      this.#dialTimer.unref();
    };
    probe();
  }

  /** Give up a dial that did not complete: tell the peer, in case it did hear us. */
  abandon(): void {
    this.#onEstablished = undefined;
    this.destroy();
  }

  /**
   * One opened datagram (from the FEC header on) from the peer. Returns whether it belonged
   * to this conversation.
   */
  receive(body: Uint8Array, wireBytes: number): boolean {
    if (this.state === 'closed') return false;
    if (body.length < FEC_HEADER_SIZE) return false;
    const seqid = readU32(body, 0);
    const type = readU16(body, 4);
    const stats = this.#stats;
    stats.add('inPkts');
    stats.add('inBytes', wireBytes);
    let ours = false;
    if (type === TYPE_DATA) {
      if (body.length < FEC_HEADER_SIZE_PLUS2) return false;
      const recovered = this.#decoder.decode(seqid, false, body.subarray(FEC_HEADER_SIZE), currentMs());
      const result = this.#kcp.input(body.subarray(FEC_HEADER_SIZE_PLUS2), true);
      if (result === 0) ours = true;
      else stats.add('kcpInErrors');
      this.#inputRecovered(recovered);
    } else if (type === TYPE_PARITY) {
      stats.add('fecParityShards');
      this.#inputRecovered(this.#decoder.decode(seqid, true, body.subarray(FEC_HEADER_SIZE), currentMs()));
    } else if (type === TYPE_CONTROL) {
      const control = parseControl(body);
      if (!control || control.conv !== this.conv) return false;
      this.#onControl(control.kind);
      return true;
    } else {
      return false;
    }
    if (ours) {
      this.#lastReceiveMs = currentMs();
      if (!this.#established) {
        this.#established = true;
        const done = this.#onEstablished;
        this.#onEstablished = undefined;
        done?.();
      }
    }
    // ACKs (ackNoDelay) and delivery wait until the datagrams that arrived together are all
    // in, after this poll phase: one ACK datagram and one onData for a burst.
    if (!this.#afterInputPending) {
      this.#afterInputPending = true;
      setImmediate(this.#afterInput);
    }
    return ours;
  }

  /** The socket failed (dialer): end without telling the peer, which cannot be reached. */
  socketFailed(error: Error): void {
    if (this.state === 'closed') return;
    this.#end(error, undefined);
  }

  // ---- internals -------------------------------------------------------------------

  #inputRecovered(recovered: Uint8Array[]): void {
    for (const shard of recovered) {
      const size = readU16(shard, 0);
      if (size < 2 || size > shard.length) {
        this.#stats.add('fecErrs');
        continue;
      }
      if (this.#kcp.input(shard.subarray(2, size), false) === 0) this.#stats.add('fecRecovered');
      else this.#stats.add('kcpInErrors');
    }
  }

  readonly #afterInput = (): void => {
    this.#afterInputPending = false;
    if (this.state === 'closed') return;
    this.#deliver();
    const kcp = this.#kcp;
    if (kcp.canSendNew || kcp.pendingProbe) {
      this.#flushNow();
    } else if (kcp.pendingAcks && this.#settings.ackNoDelay) {
      // Not yet: a handler that answers in this turn writes before the next check phase, and
      // that write's flush carries the ACKs in the same datagram as the reply (half the
      // datagrams of a call). Unanswered, they go on their own then.
      if (!this.#ackFlushPending) {
        this.#ackFlushPending = true;
        setImmediate(this.#flushAcks);
      }
      this.#armIfBusy(kcp.interval);
    } else {
      this.#armIfBusy(kcp.interval);
    }
    this.#checkClosing();
    this.checkDrain();
  };

  /** The ACKs no write took along (ackNoDelay): on their own, one turn after they were due. */
  readonly #flushAcks = (): void => {
    this.#ackFlushPending = false;
    if (this.state === 'closed' || !this.#kcp.pendingAcks) return;
    this.#kcp.flush(true);
  };

  /** A full KCP flush now, then the timer for the next one. */
  #flushNow(): void {
    const next = this.#kcp.flush();
    if (this.#kcp.dead) {
      this.destroy(
        new ConnectionError(
          `write kcp ${this.localAddress}->${this.remoteAddress}: no acknowledgement after ${DEAD_LINK} transmissions`,
        ),
      );
      return;
    }
    this.#armIfBusy(next);
  }

  #armIfBusy(ms: number): void {
    if (this.state === 'closed') return;
    if (this.#kcp.busy) this.#armTimer(ms);
  }

  /** Flush in `ms` (or sooner, if a flush is already due sooner). */
  #armTimer(ms: number): void {
    const due = currentMs() + ms;
    if (this.#timer) {
      if (this.#timerDue <= due) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = due;
    this.#timer = setTimeout(this.#onTimer, ms);
    // The socket keeps the process alive, not the protocol's clock.
    this.#timer.unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.state === 'closed') return;
    // Timers run before the event loop reads the socket: after a stretch without CPU, the ACKs
    // that came meanwhile would still be unread and their segments retransmitted as lost
    // (congestion window down to 1). The flush waits until this turn has read them.
    setImmediate(this.#onTick);
  };

  readonly #onTick = (): void => {
    if (this.state === 'closed') return;
    this.#flushNow();
    this.#checkClosing();
    this.checkDrain();
  };

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.state === 'closed') return;
      const idle = currentMs() - this.#lastReceiveMs;
      if (idle >= this.#settings.idleTimeoutMs) {
        this.destroy(
          new ConnectionError(
            `read kcp ${this.localAddress}->${this.remoteAddress}: i/o timeout (nothing received for ${idle} ms)`,
          ),
        );
      } else {
        this.#armIdle(this.#settings.idleTimeoutMs - idle);
      }
    }, ms);
    this.#idleTimer.unref();
  }

  #output(buffer: Uint8Array, size: number): void {
    // KCP reuses its buffer: everything below copies before returning.
    const packet = buffer.subarray(0, size);
    const parity = this.#encoder.encode(packet);
    this.#send(seal(packet, this.#settings.crypt));
    if (parity) for (const p of parity) this.#send(seal(p, this.#settings.crypt));
  }

  #send(datagram: Uint8Array): void {
    if (this.#released) return;
    if (this.#drop(datagram)) {
      this.#stats.add('simulatedDrops');
      return;
    }
    this.#stats.add('outPkts');
    this.#stats.add('outBytes', datagram.length);
    this.#wire.send(datagram);
  }

  #sendControl(kind: number): void {
    const datagram = controlPacket(kind, this.conv, this.#settings.crypt);
    // Twice: one lost datagram should not leave the peer waiting for its idle timeout.
    this.#send(datagram);
    this.#send(datagram);
  }

  /** Hands on what KCP has in order, while reading (after close(), to keep the window open: the data is dropped). */
  #deliver(): void {
    if (this.state === 'closed' || !this.#reading) return;
    for (let chunks = this.#kcp.drain(); chunks.length > 0 && this.#reading && !this.isEnded; chunks = this.#kcp.drain()) {
      this.#handOn(chunks);
    }
    if (this.#kcp.pendingProbe) this.#armTimer(0);
  }

  /** `chunks` to the base, joined into pieces of up to MAX_CHUNK (it holds them while paused). */
  #handOn(chunks: Uint8Array[]): void {
    for (let at = 0; at < chunks.length && !this.isEnded; ) {
      let bytes = 0;
      let n = at;
      while (n < chunks.length && (n === at || bytes + chunks[n].length <= MAX_CHUNK)) bytes += chunks[n++].length;
      const chunk = n === at + 1 ? chunks[at] : Buffer.concat(chunks.slice(at, n), bytes);
      at = n;
      this.#stats.add('bytesReceived', bytes);
      this.received(chunk);
    }
  }

  #onControl(kind: number): void {
    if (this.state === 'closed') return;
    if (!this.#established && this.#onEstablished) {
      // The listener refused the dial.
      const done = this.#onEstablished;
      this.#onEstablished = undefined;
      this.#end(undefined, undefined);
      done(new DialError('connection refused'));
      return;
    }
    if (kind === CONTROL_FIN) {
      // The peer closed after all it sent was acknowledged, so all of it is here: hand it on
      // (held until the handler takes it), then report a clean close.
      const rest = this.#kcp.drainAll();
      if (rest.length > 0) this.#handOn(rest);
      const unsent = this.#kcp.waitSnd > 0 || this.pendingBytes > 0;
      const error = unsent
        ? new ConnectionError(`read kcp ${this.localAddress}->${this.remoteAddress}: peer closed before receiving everything`)
        : undefined;
      this.#end(error, undefined);
    } else if (kind === CONTROL_RST) {
      this.#end(new ConnectionError(`read kcp ${this.localAddress}->${this.remoteAddress}: connection reset by peer`), undefined);
    }
  }

  #checkClosing(): void {
    if (this.state !== 'closing') return;
    if (this.#kcp.waitSnd === 0) this.#finishClose();
  }

  #finishClose(): void {
    if (this.isEnded) return;
    // ACKs still waiting for a reply to ride on go first: the peer learns before FIN that
    // everything it sent arrived.
    if (this.#kcp.pendingAcks) this.#kcp.flush(true);
    this.#sendControl(CONTROL_FIN);
    this.#end(undefined, CONTROL_FIN);
  }

  /** The conversation is over. `sent` is the control datagram just sent to the peer. */
  #end(error: Error | undefined, sent: number | undefined): void {
    if (this.isEnded || this.#released) return;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#dialTimer) clearTimeout(this.#dialTimer);
    this.#timer = this.#idleTimer = this.#dialTimer = undefined;
    this.#released = true;
    this.#wire.release(this, sent);
    this.ended(error);
  }
}
