// The pipe transport against @rpcx/transport-kit's compliance suite, the same suite tcp, ws,
// kcp, quic, http, memu and webtransport pass. Run with `node --test`.
import * as nodeTest from 'node:test';
import { nodeTestRunner, transportCompliance } from '@rpcx/transport-kit/testing';
import { pipeTransport } from '../src/index.js';

let names = 0;

transportCompliance({
  name: 'pipe',
  runner: nodeTestRunner(nodeTest),
  transport: () => pipeTransport(),
  network: 'pipe',
  listenAddress: () => `compliance-${++names}:1`,
  refusedAddress: () => `nobody-${++names}:1`,
  // Web streams between the ends hold little: a paused reader soon holds the writer back.
  backpressureBytes: 4 << 20,
});
