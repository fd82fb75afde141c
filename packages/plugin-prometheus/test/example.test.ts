// examples/prometheus as a user runs it: calls, a failing one and an unknown method, then a
// scrape of the server's /metrics over HTTP.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples');

test('examples/prometheus prints the scraped calls counters', async () => {
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join('prometheus', 'run.ts')], { cwd: EXAMPLES, timeout: 60_000, killSignal: 'SIGKILL' }, (err, out, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(out),
    );
  });
  expect(stdout.trimEnd().split('\n')).toEqual([
    'Div: divide by zero',
    "Pow: rpcx: can't find method Pow",
    'rpcx_server_calls_total{service="Arith",method="Mul",protocol="rpcx",outcome="ok"} 3',
    'rpcx_server_calls_total{service="Arith",method="Div",protocol="rpcx",outcome="RPCX_ERR_SERVICE"} 1',
    'rpcx_server_calls_total{service="_OTHER",method="_OTHER",protocol="rpcx",outcome="RPCX_ERR_SERVICE"} 1',
    'rpcx_server_call_duration_seconds_count{service="Arith",method="Mul",protocol="rpcx"} 3',
    'rpcx_server_call_duration_seconds_count{service="Arith",method="Div",protocol="rpcx"} 1',
    'rpcx_server_call_duration_seconds_count{service="_OTHER",method="_OTHER",protocol="rpcx"} 1',
    'rpcx_client_calls_total{service="Arith",method="Mul",kind="call",outcome="ok"} 3',
    'rpcx_client_calls_total{service="Arith",method="Div",kind="call",outcome="RPCX_ERR_SERVICE"} 1',
    'rpcx_client_calls_total{service="Arith",method="Pow",kind="call",outcome="RPCX_ERR_SERVICE"} 1',
  ]);
}, 90_000);
