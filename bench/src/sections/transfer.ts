// The side channels' file-transfer throughput (transfer.ts; alone: `pnpm --filter @rpcx/bench run bench:transfer`).
import type { Section } from '../harness.js';
import { runTransferBench } from '../transfer.js';

export const transferSection: Section = {
  name: 'transfer',
  run: async (bench) => {
    bench.say('### File transfer');
    bench.say();
    await runTransferBench({ repeat: bench.options.repeat, sizeMiB: bench.options.transferMiB, say: bench.say });
  },
};
