/**
 * Counters in the spirit of kcp-go's `DefaultSnmp`, with the same meanings, kept per
 * connection and summed per transport (kcp-go keeps one process-wide set).
 */
export interface KcpStats {
  /** Bytes the application wrote / received. */
  bytesSent: number;
  bytesReceived: number;
  /** Datagrams and their bytes, on the wire (after encryption), both ways. */
  outPkts: number;
  outBytes: number;
  inPkts: number;
  inBytes: number;
  /** KCP segments sent and received. */
  outSegs: number;
  inSegs: number;
  /** Datagrams dropped because their CRC did not match after decryption (wrong key, damage). */
  inCsumErrors: number;
  /** Datagrams KCP rejected (wrong conversation, malformed segment). */
  kcpInErrors: number;
  /** Segments sent again: all reasons, then by reason. */
  retransSegs: number;
  fastRetransSegs: number;
  earlyRetransSegs: number;
  /** Retransmissions after a retransmission timeout: segments inferred lost. */
  lostSegs: number;
  /** Segments received twice. */
  repeatSegs: number;
  /** FEC parity shards received. */
  fecParityShards: number;
  /** Lost data packets rebuilt from parity and accepted by KCP. */
  fecRecovered: number;
  /** Rebuilt shards that did not hold a valid packet. */
  fecErrs: number;
  /** Data shards given up on: their group never gathered enough shards to rebuild it. */
  fecShortShards: number;
  /** Outgoing datagrams dropped on purpose by the `simulatedLoss` option. */
  simulatedDrops: number;
}

export function newStats(): KcpStats {
  return {
    bytesSent: 0,
    bytesReceived: 0,
    outPkts: 0,
    outBytes: 0,
    inPkts: 0,
    inBytes: 0,
    outSegs: 0,
    inSegs: 0,
    inCsumErrors: 0,
    kcpInErrors: 0,
    retransSegs: 0,
    fastRetransSegs: 0,
    earlyRetransSegs: 0,
    lostSegs: 0,
    repeatSegs: 0,
    fecParityShards: 0,
    fecRecovered: 0,
    fecErrs: 0,
    fecShortShards: 0,
    simulatedDrops: 0,
  };
}

/** Adds to a connection's counters and, alongside, to its transport's totals. */
export class StatsSink {
  readonly own: KcpStats = newStats();
  constructor(private readonly total: KcpStats) {}

  add(key: keyof KcpStats, n = 1): void {
    this.own[key] += n;
    this.total[key] += n;
  }
}
