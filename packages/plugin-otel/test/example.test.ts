// examples/otel as a user runs it: two servers and two clients with the interceptors print one
// trace of six spans, each nested under the one that caused it.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

test('examples/otel prints one trace: client → Front → Back, each span under its cause', async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join('otel', 'run.ts')], { cwd: EXAMPLES, timeout: 60_000, killSignal: 'SIGKILL' }, (err, out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
    );
  });
  const lines = stdout.trimEnd().split('\n');
  expect(lines[0]).toBe('reply: HELLO');
  expect(lines[1]).toMatch(/^trace [0-9a-f]{32}: 6 spans, 1 trace$/);
  expect(lines.slice(2)).toEqual([
    'Front/Relay (internal)',
    '  Front/Relay (client) attempt 1',
    '    Front/Relay (server)',
    '      Back/Echo (internal)',
    '        Back/Echo (client) attempt 1',
    '          Back/Echo (server)',
  ]);
}, 90_000);
