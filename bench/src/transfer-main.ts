// `pnpm --filter @rpcx/bench run bench:transfer`: only the side-channel throughput table.
// Options: --repeat (3), --size-mib (256).
import { parseArgs } from 'node:util';
import { bundleDir, bundleScripts } from './bundle.js';
import { useBundle } from './harness.js';
import { runTransferBench } from './transfer.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '3' }, 'size-mib': { type: 'string', default: '256' } } });
await bundleScripts();
useBundle(bundleDir);
await runTransferBench({ repeat: Number(values.repeat), sizeMiB: Number(values['size-mib']), say: (line = '') => console.log(line) });
