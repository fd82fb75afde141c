// The tracing and metrics examples (examples/otel, examples/prometheus), run as a user runs them.
import { DEADLINE_MS, run } from './support.js';

const TIMEOUT = 2 * DEADLINE_MS;

test('otel/run.ts prints one trace: client → Front → Back, each span under its cause', async () => {
  const lines = await run('otel/run.ts');
  expect(lines[0]).toBe('reply: HELLO');
  // Failfast clients: each call is one request, whose client span stands for the call.
  expect(lines[1]).toMatch(/^trace [0-9a-f]{32}: 4 spans, 1 trace$/);
  expect(lines.slice(2)).toEqual([
    'Front/Relay (client) attempt 1',
    '  Front/Relay (server)',
    '    Back/Echo (client) attempt 1',
    '      Back/Echo (server)',
  ]);
}, TIMEOUT);

test('prometheus/run.ts prints the calls counters scraped from /metrics on the rpcx port', async () => {
  expect(await run('prometheus/run.ts')).toEqual([
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
}, TIMEOUT);
