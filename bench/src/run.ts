// `pnpm bench`: rpcx TS and Go clients and servers side by side in one run, next to the limit
// (a raw Node framed echo) and grpc-js, then the same pinned to cores, memory, scaling,
// governance, observability, transports and file transfer. Every client run is its own process
// against a warm server process, and the cells of a table are interleaved (A B C … A B C …) so
// that the machine's busy moments hit them alike.
//
// Writes bench/results/latest.md and bench/results/throughput.svg, and puts the report into the
// README between the `bench:begin` / `bench:end` markers.
// Options: --quick (a smoke test, about 1 min 30 s on 2 cores: short runs, one of each, nothing written but
// bench/results/quick.md), --duration-ms (2000), --warmup-ms (500), --repeat (5),
// --idle-connections (10000), --only name,name (sections to run; no README update).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleDir, bundleScripts } from './bundle.js';
import { Bench, root, useBundle, type Section } from './harness.js';
import { callsSection } from './sections/calls.js';
import { governanceSection } from './sections/governance.js';
import { memorySection } from './sections/memory.js';
import { observabilitySection } from './sections/observability.js';
import { pinnedSection } from './sections/pinned.js';
import { scalingSection } from './sections/scaling.js';
import { transferSection } from './sections/transfer.js';
import { transportsSection } from './sections/transports.js';

/** The report, in order. A new table is a new Section in sections/ and a line here. */
const sections: Section[] = [callsSection, pinnedSection, memorySection, scalingSection, governanceSection, observabilitySection, transportsSection, transferSection];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'duration-ms': { type: 'string' },
    'warmup-ms': { type: 'string' },
    repeat: { type: 'string' },
    'idle-connections': { type: 'string' },
    only: { type: 'string' },
  },
});
const quick = values.quick!;
const bench = new Bench({
  quick,
  durationMs: Number(values['duration-ms'] ?? (quick ? 200 : 2000)),
  warmupMs: Number(values['warmup-ms'] ?? (quick ? 50 : 500)),
  repeat: Number(values.repeat ?? (quick ? 1 : 5)),
  idleConnections: Number(values['idle-connections'] ?? (quick ? 1000 : 10_000)),
  transferMiB: quick ? 16 : 256,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
await bundleScripts();
useBundle(bundleDir);

const only = values.only?.split(',');
const chosen = sections.filter((s) => (only ? only.includes(s.name) : !quick || s.quick !== false));
const { say } = bench;
const started = Date.now();
const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');
say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, Go peer = rpcx v1.9.4 (interop/go). Load average at the start ${load()} (1 / 5 / 15 min).`);
say();
for (const section of chosen) {
  process.stderr.write(`${section.name}…\n`);
  const sectionStarted = Date.now();
  await section.run(bench);
  process.stderr.write(`${section.name}: ${((Date.now() - sectionStarted) / 1000).toFixed(0)} s\n`);
  say();
}
say(`Run took ${Math.round((Date.now() - started) / 60_000)} min (\`pnpm bench${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}\`); load average at the end ${load()}.`);
bench.stopAll();

const results = join(root, 'bench', 'results');
mkdirSync(results, { recursive: true });
if (quick || only) {
  writeFileSync(join(results, 'quick.md'), bench.lines.join('\n') + '\n');
} else {
  const report = bench.lines.join('\n') + '\n';
  writeFileSync(join(results, 'latest.md'), report);
  for (const [name, content] of bench.files) writeFileSync(join(results, name), content);
  // The README shows the same report, its links made relative to the repository root.
  const readme = join(root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const begin = '<!-- bench:begin (written by `pnpm bench`) -->';
  const end = '<!-- bench:end -->';
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${begin} … ${end} section`);
  const body = report.replace(/\]\((?!https?:)([^)]+)\)/g, '](bench/results/$1)');
  writeFileSync(readme, text.slice(0, from + begin.length) + '\n' + body + text.slice(to));
}
