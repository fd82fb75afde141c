/**
 * The KCP protocol state machine (ARQ over datagrams), a TypeScript implementation of
 * skywind3000's ikcp with the behaviour of xtaci/kcp-go v5, the variant Go rpcx runs:
 *
 * - segment header (24 bytes, little-endian): conv u32, cmd u8, frg u8, wnd u16, ts u32,
 *   sn u32, una u32, len u32, then `len` bytes of data; several segments share a datagram;
 * - commands PUSH 81, ACK 82, WASK 83 (window probe), WINS 84 (window size);
 * - `reserved` bytes at the start of every output buffer are left for the FEC and crypt
 *   headers, which shrinks the segment payload (mss) accordingly;
 * - kcp-go's input flags: window updates and RTT samples only from real packets, not from
 *   packets rebuilt by FEC ("regular"); an ACK-only flush on demand (ackNoDelay);
 * - kcp-go's "early retransmit" and its ACK filter (ACKs below rcv_nxt are sent only if last).
 *
 * This class does no I/O and keeps no timers: the session calls `flush` when it is due and
 * hands `input` the datagrams it receives. Received data is collected in `rcvQueue`, in
 * order, for the session to take with `drain`.
 */
import { ConfigError } from '@rpcx/core';
import type { StatsSink } from './stats.js';

export const IKCP_OVERHEAD = 24;
export const CMD_PUSH = 81;
export const CMD_ACK = 82;
export const CMD_WASK = 83;
export const CMD_WINS = 84;
const ASK_SEND = 1;
const ASK_TELL = 2;
const RTO_NODELAY_MIN = 30;
const RTO_MIN = 100;
const RTO_DEFAULT = 200;
const RTO_MAX = 60_000;
const THRESH_INIT = 2;
const THRESH_MIN = 2;
const PROBE_INIT = 7000;
const PROBE_LIMIT = 120_000;
/** kcp-go's IKCP_DEADLINK: a segment sent this many times means the peer is gone. */
export const DEAD_LINK = 20;

/** Signed distance between two wrapping 32-bit counters (sequence numbers, timestamps). */
export function timeDiff(later: number, earlier: number): number {
  return (later - earlier) | 0;
}

/** Milliseconds on a monotonic clock, as the wrapping u32 KCP timestamps use. */
export function currentMs(): number {
  return Math.floor(performance.now()) >>> 0;
}

interface SentSegment {
  sn: number;
  ts: number;
  rto: number;
  resendts: number;
  fastack: number;
  xmit: number;
  acked: boolean;
  data: Uint8Array;
}

interface QueuedSegment {
  buf: Uint8Array;
  len: number;
}

export interface KcpSettings {
  mtu: number;
  /** Bytes kept free at the start of each output buffer (FEC + crypt headers). */
  reserved: number;
  sndWnd: number;
  rcvWnd: number;
  /** nodelay mode: lower minimum RTO (30 ms) and gentler RTO back-off. */
  noDelay: boolean;
  /** Internal update interval in ms (10..5000). */
  interval: number;
  /** Fast retransmit after this many later ACKs; 0 turns it off. */
  fastResend: number;
  /** Turn congestion control off. */
  noCongestionWindow: boolean;
  /** Stream mode: small writes are packed into full segments. */
  stream: boolean;
}

const EMPTY = new Uint8Array(0);

export class Kcp {
  readonly conv: number;
  readonly mtu: number;
  readonly mss: number;
  readonly reserved: number;
  readonly sndWnd: number;
  readonly rcvWnd: number;
  readonly interval: number;
  readonly #noDelay: boolean;
  readonly #fastResend: number;
  readonly #noCwnd: boolean;
  readonly #stream: boolean;
  readonly #output: (buffer: Uint8Array, size: number) => void;
  readonly #stats: StatsSink;
  readonly #buffer: Uint8Array;
  readonly #view: DataView;

  sndUna = 0;
  sndNxt = 0;
  rcvNxt = 0;
  rmtWnd: number;
  cwnd = 0;
  #ssthresh = THRESH_INIT;
  #incr = 0;
  #rxSrtt = 0;
  #rxRttvar = 0;
  rxRto = RTO_DEFAULT;
  readonly #rxMinRto: number;
  #probe = 0;
  #probeWait = 0;
  #tsProbe = 0;
  /** A segment was sent DEAD_LINK times without being acknowledged. */
  dead = false;

  /** Segments waiting for the window. */
  #sndQueue: QueuedSegment[] = [];
  #sndQueueHead = 0;
  /** Bytes in `#sndQueue`: written but never sent. */
  sndQueueBytes = 0;
  /** Segments sent and not yet covered by the peer's una; contiguous sequence numbers. */
  #sndBuf: SentSegment[] = [];
  #sndBufHead = 0;
  /** Out-of-order segments within the receive window, by sequence number. */
  #rcvBuf = new Map<number, Uint8Array>();
  /** In-order data not yet taken by `drain`. */
  #rcvQueue: Uint8Array[] = [];
  #rcvQueueHead = 0;
  /** Pending ACKs as sn, ts pairs. */
  #ackList: number[] = [];

  constructor(conv: number, settings: KcpSettings, output: (buffer: Uint8Array, size: number) => void, stats: StatsSink) {
    if (settings.mtu < 50 || settings.reserved < 0 || settings.reserved >= settings.mtu - IKCP_OVERHEAD) {
      throw new ConfigError(`invalid KCP mtu ${settings.mtu} for ${settings.reserved} reserved bytes`);
    }
    this.conv = conv >>> 0;
    this.mtu = settings.mtu;
    this.reserved = settings.reserved;
    this.mss = settings.mtu - IKCP_OVERHEAD - settings.reserved;
    this.sndWnd = settings.sndWnd;
    this.rcvWnd = settings.rcvWnd;
    this.rmtWnd = settings.rcvWnd;
    this.interval = Math.min(5000, Math.max(10, settings.interval));
    this.#noDelay = settings.noDelay;
    this.#rxMinRto = settings.noDelay ? RTO_NODELAY_MIN : RTO_MIN;
    this.#fastResend = settings.fastResend;
    this.#noCwnd = settings.noCongestionWindow;
    this.#stream = settings.stream;
    this.#output = output;
    this.#stats = stats;
    this.#buffer = new Uint8Array(settings.mtu);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Segments sent and unacknowledged plus segments waiting to be sent (kcp-go `WaitSnd`). */
  get waitSnd(): number {
    return this.#sndBuf.length - this.#sndBufHead + this.#sndQueue.length - this.#sndQueueHead;
  }

  /** Segments waiting for the send window. */
  get sndQueueLength(): number {
    return this.#sndQueue.length - this.#sndQueueHead;
  }

  get rcvQueueLength(): number {
    return this.#rcvQueue.length - this.#rcvQueueHead;
  }

  /** Anything a flush would send or retransmit later: the session keeps its timer while true. */
  get busy(): boolean {
    return this.waitSnd > 0 || this.#ackList.length > 0 || this.#probe !== 0 || this.rmtWnd === 0;
  }

  /** Whether a flush now would put new segments on the wire (data queued, window open). */
  get canSendNew(): boolean {
    if (this.#sndQueue.length === this.#sndQueueHead) return false;
    return timeDiff(this.sndNxt, (this.sndUna + this.#effectiveWindow()) >>> 0) < 0;
  }

  /** ACKs waiting for a flush. */
  get pendingAcks(): boolean {
    return this.#ackList.length > 0;
  }

  /** A window probe (WASK) or window report (WINS) waiting for a flush. */
  get pendingProbe(): boolean {
    return this.#probe !== 0;
  }

  /** Queue bytes to send. In stream mode they first fill the last queued segment. */
  send(data: Uint8Array): void {
    let offset = 0;
    const total = data.length;
    if (total === 0) return;
    const mss = this.mss;
    if (this.#stream && this.#sndQueue.length > this.#sndQueueHead) {
      const last = this.#sndQueue[this.#sndQueue.length - 1];
      if (last.len < mss && last.buf.length >= mss) {
        const n = Math.min(mss - last.len, total);
        last.buf.set(data.subarray(0, n), last.len);
        last.len += n;
        offset = n;
      }
    }
    while (offset < total) {
      const n = Math.min(mss, total - offset);
      let buf: Uint8Array;
      if (n === mss || !this.#stream) {
        // The writer hands its buffers over (Connection.write), so a view is enough.
        buf = data.subarray(offset, offset + n);
      } else {
        // A partial segment in stream mode gets room to grow with the next write: a slice of
        // Node's buffer pool, cheaper to make and to collect than an ArrayBuffer of its own.
        buf = Buffer.allocUnsafe(mss);
        buf.set(data.subarray(offset, offset + n));
      }
      this.#sndQueue.push({ buf, len: n });
      offset += n;
    }
    this.sndQueueBytes += total;
  }

  /** Take the in-order data received so far (up to the whole queue), oldest first. */
  drain(): Uint8Array[] {
    const wasFull = this.rcvQueueLength >= this.rcvWnd;
    const out = this.#rcvQueueHead === 0 ? this.#rcvQueue : this.#rcvQueue.slice(this.#rcvQueueHead);
    this.#rcvQueue = [];
    this.#rcvQueueHead = 0;
    this.#moveReceived();
    // kcp-go's "fast recover": the peer saw a closed window; tell it that it opened.
    if (wasFull && this.rcvQueueLength < this.rcvWnd) this.#probe |= ASK_TELL;
    return out;
  }

  /** Ask the peer for its window size (WASK) in the next flush. */
  askWindow(): void {
    this.#probe |= ASK_SEND;
  }

  /**
   * Feed one datagram's segments (without FEC and crypt headers). `regular` is false for
   * data rebuilt by FEC. Returns 0, or a negative ikcp error code: -1 wrong conversation or
   * too short, -2 truncated segment, -3 unknown command.
   */
  input(data: Uint8Array, regular: boolean): number {
    if (data.length < IKCP_OVERHEAD) return -1;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const prevUna = this.sndUna;
    let offset = 0;
    let sawAck = false;
    let latestTs = 0;
    let segments = 0;
    let result = 0;
    while (data.length - offset >= IKCP_OVERHEAD) {
      const conv = view.getUint32(offset, true);
      if (conv !== this.conv) {
        result = -1;
        break;
      }
      const cmd = data[offset + 4];
      const wnd = view.getUint16(offset + 6, true);
      const ts = view.getUint32(offset + 8, true);
      const sn = view.getUint32(offset + 12, true);
      const una = view.getUint32(offset + 16, true);
      const len = view.getUint32(offset + 20, true);
      offset += IKCP_OVERHEAD;
      if (data.length - offset < len) {
        result = -2;
        break;
      }
      if (cmd < CMD_PUSH || cmd > CMD_WINS) {
        result = -3;
        break;
      }
      if (regular) this.rmtWnd = wnd;
      this.#parseUna(una);
      this.#shrinkBuf();
      if (cmd === CMD_ACK) {
        this.#parseAck(sn);
        this.#parseFastAck(sn, ts);
        sawAck = true;
        latestTs = ts;
      } else if (cmd === CMD_PUSH) {
        let repeat = true;
        if (timeDiff(sn, (this.rcvNxt + this.rcvWnd) >>> 0) < 0) {
          this.#ackList.push(sn, ts);
          if (timeDiff(sn, this.rcvNxt) >= 0) repeat = this.#parseData(sn, data.subarray(offset, offset + len));
        }
        if (regular && repeat) this.#stats.add('repeatSegs');
      } else if (cmd === CMD_WASK) {
        this.#probe |= ASK_TELL;
      }
      segments++;
      offset += len;
    }
    if (segments > 0) this.#stats.add('inSegs', segments);

    if (sawAck && regular) {
      const rtt = timeDiff(currentMs(), latestTs);
      if (rtt >= 0) this.#updateRtt(rtt);
    }

    if (!this.#noCwnd && timeDiff(this.sndUna, prevUna) > 0 && this.cwnd < this.rmtWnd) {
      const mss = this.mss;
      if (this.cwnd < this.#ssthresh) {
        this.cwnd++;
        this.#incr += mss;
      } else {
        if (this.#incr < mss) this.#incr = mss;
        this.#incr += Math.floor((mss * mss) / this.#incr) + Math.floor(mss / 16);
        if ((this.cwnd + 1) * mss <= this.#incr) this.cwnd++;
      }
      if (this.cwnd > this.rmtWnd) {
        this.cwnd = this.rmtWnd;
        this.#incr = this.rmtWnd * mss;
      }
    }
    return result;
  }

  #effectiveWindow(): number {
    let cwnd = Math.min(this.sndWnd, this.rmtWnd);
    if (!this.#noCwnd) cwnd = Math.min(this.cwnd, cwnd);
    return cwnd;
  }

  #wndUnused(): number {
    const n = this.rcvQueueLength;
    return n < this.rcvWnd ? this.rcvWnd - n : 0;
  }

  #updateRtt(rtt: number): void {
    if (this.#rxSrtt === 0) {
      this.#rxSrtt = rtt;
      this.#rxRttvar = rtt >> 1;
    } else {
      let delta = rtt - this.#rxSrtt;
      this.#rxSrtt += delta >> 3;
      if (delta < 0) delta = -delta;
      if (rtt < this.#rxSrtt - this.#rxRttvar) {
        // A sample below the expected range counts an eighth as much (as kcp-go).
        this.#rxRttvar += (delta - this.#rxRttvar) >> 5;
      } else {
        this.#rxRttvar += (delta - this.#rxRttvar) >> 2;
      }
    }
    const rto = this.#rxSrtt + Math.max(this.interval, this.#rxRttvar << 2);
    this.rxRto = Math.min(RTO_MAX, Math.max(this.#rxMinRto, rto));
  }

  #shrinkBuf(): void {
    this.sndUna = this.#sndBuf.length > this.#sndBufHead ? this.#sndBuf[this.#sndBufHead].sn : this.sndNxt;
  }

  #parseAck(sn: number): void {
    if (timeDiff(sn, this.sndUna) < 0 || timeDiff(sn, this.sndNxt) >= 0) return;
    if (this.#sndBuf.length === this.#sndBufHead) return;
    // Sequence numbers in the send buffer are contiguous: index directly.
    const index = this.#sndBufHead + ((sn - this.#sndBuf[this.#sndBufHead].sn) >>> 0);
    const seg = this.#sndBuf[index];
    if (seg && seg.sn === sn && !seg.acked) {
      seg.acked = true;
      seg.data = EMPTY;
    }
  }

  #parseFastAck(sn: number, ts: number): void {
    if (timeDiff(sn, this.sndUna) < 0 || timeDiff(sn, this.sndNxt) >= 0) return;
    const buf = this.#sndBuf;
    for (let i = this.#sndBufHead; i < buf.length; i++) {
      const seg = buf[i];
      if (timeDiff(sn, seg.sn) < 0) break;
      if (sn !== seg.sn && timeDiff(seg.ts, ts) <= 0) seg.fastack++;
    }
  }

  #parseUna(una: number): void {
    const buf = this.#sndBuf;
    let head = this.#sndBufHead;
    while (head < buf.length && timeDiff(una, buf[head].sn) > 0) head++;
    if (head === this.#sndBufHead) return;
    if (head === buf.length) {
      this.#sndBuf = [];
      this.#sndBufHead = 0;
    } else if (head > 1024 && head * 2 > buf.length) {
      this.#sndBuf = buf.slice(head);
      this.#sndBufHead = 0;
    } else {
      this.#sndBufHead = head;
    }
  }

  /** Store a new in-window segment; true if it was a repeat. */
  #parseData(sn: number, data: Uint8Array): boolean {
    if (timeDiff(sn, (this.rcvNxt + this.rcvWnd) >>> 0) >= 0 || timeDiff(sn, this.rcvNxt) < 0) return true;
    if (this.#rcvBuf.has(sn)) return true;
    // The datagram is a fresh buffer that nothing else writes to, so a view is enough.
    this.#rcvBuf.set(sn, data);
    this.#moveReceived();
    return false;
  }

  #moveReceived(): void {
    const rcvBuf = this.#rcvBuf;
    while (rcvBuf.size > 0 && this.rcvQueueLength < this.rcvWnd) {
      const data = rcvBuf.get(this.rcvNxt);
      if (data === undefined) break;
      rcvBuf.delete(this.rcvNxt);
      if (data.length > 0) this.#rcvQueue.push(data);
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    }
  }

  /**
   * Everything received and buffered, in order, regardless of the window: used when the
   * peer closes, once no more segments can come.
   */
  drainAll(): Uint8Array[] {
    const out = this.drain();
    while (this.#rcvBuf.size > 0) {
      const data = this.#rcvBuf.get(this.rcvNxt);
      if (data === undefined) break;
      this.#rcvBuf.delete(this.rcvNxt);
      if (data.length > 0) out.push(data);
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
    }
    return out;
  }

  #encodeHeader(at: number, cmd: number, wnd: number, ts: number, sn: number, una: number, len: number): void {
    const v = this.#view;
    v.setUint32(at, this.conv, true);
    this.#buffer[at + 4] = cmd;
    this.#buffer[at + 5] = 0;
    v.setUint16(at + 6, wnd, true);
    v.setUint32(at + 8, ts, true);
    v.setUint32(at + 12, sn, true);
    v.setUint32(at + 16, una, true);
    v.setUint32(at + 20, len, true);
  }

  /**
   * Send what is due: ACKs, window probes, new segments the window allows, retransmissions.
   * With `ackOnly`, only the ACKs. Returns the ms until the next flush is due (at most the
   * interval).
   */
  flush(ackOnly = false): number {
    const buffer = this.#buffer;
    const mtu = this.mtu;
    const reserved = this.reserved;
    let ptr = reserved;
    let segsOut = 0;
    const emit = () => {
      if (ptr > reserved) this.#output(buffer, ptr);
      ptr = reserved;
    };
    const wnd = this.#wndUnused();
    const una = this.rcvNxt;

    const acks = this.#ackList;
    const lastAck = acks.length - 2;
    for (let i = 0; i < acks.length; i += 2) {
      const sn = acks[i];
      // kcp-go skips ACKs below rcv_nxt (the una already covers them), except the last one.
      if (timeDiff(sn, una) >= 0 || i === lastAck) {
        if (ptr + IKCP_OVERHEAD > mtu) emit();
        this.#encodeHeader(ptr, CMD_ACK, wnd, acks[i + 1], sn, una, 0);
        ptr += IKCP_OVERHEAD;
        segsOut++;
      }
    }
    if (acks.length > 0) this.#ackList = [];

    if (ackOnly) {
      emit();
      if (segsOut > 0) this.#stats.add('outSegs', segsOut);
      return this.interval;
    }

    let current = currentMs();
    // Probe the window while the peer reports it closed.
    if (this.rmtWnd === 0) {
      if (this.#probeWait === 0) {
        this.#probeWait = PROBE_INIT;
        this.#tsProbe = (current + this.#probeWait) >>> 0;
      } else if (timeDiff(current, this.#tsProbe) >= 0) {
        if (this.#probeWait < PROBE_INIT) this.#probeWait = PROBE_INIT;
        this.#probeWait += this.#probeWait >> 1;
        if (this.#probeWait > PROBE_LIMIT) this.#probeWait = PROBE_LIMIT;
        this.#tsProbe = (current + this.#probeWait) >>> 0;
        this.#probe |= ASK_SEND;
      }
    } else {
      this.#tsProbe = 0;
      this.#probeWait = 0;
    }
    if (this.#probe & ASK_SEND) {
      if (ptr + IKCP_OVERHEAD > mtu) emit();
      this.#encodeHeader(ptr, CMD_WASK, wnd, 0, 0, una, 0);
      ptr += IKCP_OVERHEAD;
      segsOut++;
    }
    if (this.#probe & ASK_TELL) {
      if (ptr + IKCP_OVERHEAD > mtu) emit();
      this.#encodeHeader(ptr, CMD_WINS, wnd, 0, 0, una, 0);
      ptr += IKCP_OVERHEAD;
      segsOut++;
    }
    this.#probe = 0;

    // Move queued segments into the send buffer as far as the window allows.
    const cwnd = this.#effectiveWindow();
    let newSegs = 0;
    const limit = (this.sndUna + cwnd) >>> 0;
    while (this.#sndQueueHead < this.#sndQueue.length && timeDiff(this.sndNxt, limit) < 0) {
      const queued = this.#sndQueue[this.#sndQueueHead++];
      this.sndQueueBytes -= queued.len;
      this.#sndBuf.push({
        sn: this.sndNxt,
        ts: 0,
        rto: 0,
        resendts: 0,
        fastack: 0,
        xmit: 0,
        acked: false,
        data: queued.len === queued.buf.length ? queued.buf : queued.buf.subarray(0, queued.len),
      });
      this.sndNxt = (this.sndNxt + 1) >>> 0;
      newSegs++;
    }
    if (this.#sndQueueHead === this.#sndQueue.length) {
      this.#sndQueue = [];
      this.#sndQueueHead = 0;
    } else if (this.#sndQueueHead > 1024) {
      this.#sndQueue = this.#sndQueue.slice(this.#sndQueueHead);
      this.#sndQueueHead = 0;
    }

    const resent = this.#fastResend > 0 ? this.#fastResend : Infinity;
    let change = 0;
    let lost = 0;
    let fast = 0;
    let early = 0;
    let minRto = this.interval;
    const sndBuf = this.#sndBuf;
    for (let i = this.#sndBufHead; i < sndBuf.length; i++) {
      const seg = sndBuf[i];
      if (seg.acked) continue;
      let send = false;
      if (seg.xmit === 0) {
        send = true;
        seg.rto = this.rxRto;
        seg.resendts = (current + seg.rto) >>> 0;
      } else if (seg.fastack >= resent) {
        send = true;
        seg.fastack = 0;
        seg.rto = this.rxRto;
        seg.resendts = (current + seg.rto) >>> 0;
        change++;
        fast++;
      } else if (seg.fastack > 0 && newSegs === 0) {
        // kcp-go's early retransmit: a later segment was acknowledged and nothing new left.
        send = true;
        seg.fastack = 0;
        seg.rto = this.rxRto;
        seg.resendts = (current + seg.rto) >>> 0;
        change++;
        early++;
      } else if (timeDiff(current, seg.resendts) >= 0) {
        send = true;
        seg.rto += this.#noDelay ? this.rxRto >> 1 : this.rxRto;
        seg.fastack = 0;
        seg.resendts = (current + seg.rto) >>> 0;
        lost++;
      }
      if (send) {
        current = currentMs();
        seg.xmit++;
        seg.ts = current;
        const need = IKCP_OVERHEAD + seg.data.length;
        if (ptr + need > mtu) emit();
        this.#encodeHeader(ptr, CMD_PUSH, wnd, current, seg.sn, una, seg.data.length);
        ptr += IKCP_OVERHEAD;
        buffer.set(seg.data, ptr);
        ptr += seg.data.length;
        segsOut++;
        if (seg.xmit >= DEAD_LINK) this.dead = true;
      }
      const rto = timeDiff(seg.resendts, current);
      if (rto > 0 && rto < minRto) minRto = rto;
    }
    emit();

    if (segsOut > 0) this.#stats.add('outSegs', segsOut);
    const retrans = lost + fast + early;
    if (retrans > 0) {
      this.#stats.add('retransSegs', retrans);
      if (lost > 0) this.#stats.add('lostSegs', lost);
      if (fast > 0) this.#stats.add('fastRetransSegs', fast);
      if (early > 0) this.#stats.add('earlyRetransSegs', early);
    }

    if (!this.#noCwnd) {
      if (change > 0) {
        // Rate halving (RFC 6937), as kcp-go.
        const inflight = (this.sndNxt - this.sndUna) >>> 0;
        this.#ssthresh = Math.max(THRESH_MIN, inflight >>> 1);
        // kcp-go adds `resend` here as a uint32; with fast resend off that wraps to -1.
        this.cwnd = Math.max(1, this.#ssthresh + (this.#fastResend > 0 ? this.#fastResend : -1));
        this.#incr = this.cwnd * this.mss;
      }
      if (lost > 0) {
        this.#ssthresh = Math.max(THRESH_MIN, cwnd >>> 1);
        this.cwnd = 1;
        this.#incr = this.mss;
      }
      if (this.cwnd < 1) {
        this.cwnd = 1;
        this.#incr = this.mss;
      }
    }
    return minRto;
  }
}
