import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { performance } from 'node:perf_hooks';
import { formatJson } from '@rpcx/codec-json';
import { ConnectionError, NoServerError, ServiceError, TimeoutError, type Metadata, type ServiceEntry } from '@rpcx/core';
import { UsageError, parseCount, parseDuration, parseJsonArgs, parseMeta, parseServiceMethod, parseTarget, type Target } from './args.js';
import { CliError, openClient, optional, registryDiscovery, registryServers, registryServices, transportsFor, type OpenClient } from './connect.js';
import { Histogram } from './histogram.js';
import { ms, table } from './output.js';
import { TRANSFER_HELP, download, transferFlags, upload, uploadFlags } from './transfer.js';

/** Where the command reads and writes; the process's streams by default. */
export interface Io {
  /** Standard output; bytes for `--codec raw` replies, which are printed as they came. */
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** Whether stderr is a terminal (the bench progress line is drawn only then). */
  readonly errIsTTY: boolean;
  readStdin(): Promise<Buffer>;
}

export const processIo = (): Io => ({
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  errIsTTY: process.stderr.isTTY === true,
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  },
});

const CODECS: Record<string, number> = { raw: 0, json: 1, msgpack: 3 };

const TOP_HELP = `rpcx — call rpcx services, Go or TypeScript, from a terminal

Usage:
  rpcx call  <address|registry> <Service.Method> [json-args] [options]
  rpcx list  <registry> [Service] [options]
  rpcx bench <address|registry> <Service.Method> [json-args] [options]
  rpcx upload   <address|registry> <file> [options]
  rpcx download <address|registry> <name> [out] [options]
  rpcx ui    <registry|address> [--listen 127.0.0.1:8088] [--auth TOKEN]

Addresses:   tcp@127.0.0.1:8972, 127.0.0.1:8972 (tcp), unix@/tmp/rpcx.sock, http@host:port, ws@host:port
Registries:  etcd://127.0.0.1:2379/rpcx_test, zookeeper://127.0.0.1:2181/rpcx_test,
             consul://127.0.0.1:8500/rpcx_test, redis://127.0.0.1:6379/rpcx_test
             (the server's BasePath; several hosts comma-separated), mdns://

Run "rpcx <command> --help" for the options of a command; "rpcx --version" for the version.
`;

const CALL_OPTIONS = `  --codec json|msgpack|raw  payload encoding (default msgpack, Go's DefaultOption);
                           with raw, json-args is sent as it is and the reply printed as it is
  --meta key=value         request metadata; repeat for more
  --auth TOKEN             auth token, sent as __AUTH (Go XClient.Auth)
  --timeout DURATION       give up after this long: 500ms, 5s, 1m (default 5s)`;

const HELP: Record<string, string> = {
  ...TRANSFER_HELP,
  call: `Usage: rpcx call <address|registry> <Service.Method> [json-args] [options]

Call Service.Method once and print the reply as JSON. json-args defaults to {};
"-" reads them from stdin.

Options:
${CALL_OPTIONS}
  --show-meta              print the response metadata to stderr
  -h, --help               this text

Examples:
  rpcx call tcp@127.0.0.1:8972 Arith.Mul '{"A":10,"B":20}'
  rpcx call 127.0.0.1:8972 ServiceUser.UserInfo '{"Uid":999}' --codec json
  rpcx call etcd://127.0.0.1:2379/rpcx_test Arith.Mul '{"A":1,"B":2}' --meta trace=on

Exit status: 0 reply printed, 1 the call failed, 2 wrong arguments.
`,
  list: `Usage: rpcx list <registry> [Service] [options]

List the services of a registry and their servers, or the servers of one service.

Options:
  --timeout DURATION       give up after this long (default 5s)
  --json                   print JSON instead of a table
  -h, --help               this text

Examples:
  rpcx list etcd://127.0.0.1:2379/rpcx_test
  rpcx list zookeeper://127.0.0.1:2181/rpcx_test Arith
  rpcx list mdns://
`,
  bench: `Usage: rpcx bench <address|registry> <Service.Method> [json-args] [options]

Call Service.Method as fast as the server answers for a while, then print calls/s,
latency percentiles and errors. A progress line is drawn on stderr when it is a terminal.

Options:
  --clients C              connections, one client each (default 1)
  --inflight N             calls in flight per connection (default 16)
  --duration DURATION      how long to run (default 5s)
${CALL_OPTIONS}
  --json                   print the summary as JSON
  -h, --help               this text

Example:
  rpcx bench tcp@127.0.0.1:8972 Arith.Mul '{"A":10,"B":20}' --clients 4 --inflight 32 --duration 10s
`,
  ui: `Usage: rpcx ui <registry|address> [options]

Serve a web console for the estate and print its address (it opens no browser): every
service of the registry with its servers and metadata, live; a server's services, with
actions to deactivate or activate it and to change its weight (written to the registry in
the layout Go reads); a form to call any method. With an address: that one server, called
directly. Runs until interrupted (Ctrl-C). Needs the @rpcx/ui package.

Options:
  --listen HOST:PORT       where to serve the page (default 127.0.0.1:8088; port 0 = any free);
                           an address off this machine needs --auth
  --auth TOKEN             the page asks for this token, and every request must carry it
  --timeout DURATION       deadline of a registry read (default 5s)
  -h, --help               this text

Examples:
  rpcx ui etcd://127.0.0.1:2379/rpcx_test
  rpcx ui consul://127.0.0.1:8500/rpcx_test --listen 0.0.0.0:8088 --auth "$(openssl rand -hex 16)"
  rpcx ui tcp@127.0.0.1:8972
`,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const common = {
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const callFlags = {
  ...common,
  codec: { type: 'string' },
  meta: { type: 'string', multiple: true },
  auth: { type: 'string' },
} as const;

function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node:util's texts are already clear ("Unknown option '--x'…", "Option '--codec <value>' argument missing").
    throw new UsageError((err as Error).message, { cause: err });
  }
}

interface CallSettings {
  target: Target;
  servicePath: string;
  method: string;
  serializeType: number;
  codecName: string;
  args: unknown;
  metadata: Metadata;
  auth: string | undefined;
  timeoutMs: number;
}

async function callSettings(io: Io, positionals: string[], values: Record<string, unknown>): Promise<CallSettings> {
  const [targetText, methodText, argsText, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])} (quote the JSON arguments as one word)`);
  const target = parseTarget(targetText);
  const { servicePath, method } = parseServiceMethod(methodText);
  const codecName = (values.codec as string | undefined) ?? 'msgpack';
  const serializeType = CODECS[codecName];
  if (serializeType === undefined) throw new UsageError(`unknown --codec ${JSON.stringify(codecName)}: json, msgpack or raw`);
  // `-` reads stdin; raw payloads keep its bytes as they are.
  const input = argsText === '-' ? await io.readStdin() : undefined;
  const args =
    codecName === 'raw'
      ? (input ?? Buffer.from(argsText ?? '', 'utf8'))
      : parseJsonArgs(input ? input.toString('utf8') : (argsText ?? '{}'));
  const timeoutMs = values.timeout === undefined ? 5000 : parseDuration(values.timeout as string, '--timeout');
  return {
    target,
    servicePath,
    method,
    serializeType,
    codecName,
    args,
    metadata: parseMeta((values.meta as string[] | undefined) ?? []),
    auth: values.auth as string | undefined,
    timeoutMs,
  };
}

const targetText = (t: Target) => (t.kind === 'server' ? t.key : t.text);

/** A call failure in words, with what was being done. */
function describeFailure(err: unknown, s: CallSettings): string {
  const where = targetText(s.target);
  if (err instanceof ServiceError) return `${s.servicePath}.${s.method} failed on the server: ${err.message}`;
  if (err instanceof TimeoutError) return `no reply from ${where} within ${s.timeoutMs} ms (${err.message})`;
  if (err instanceof ConnectionError) return `cannot reach ${where}: ${err.message}`;
  if (err instanceof NoServerError) return `${where}: no server available for ${s.servicePath} (${err.message})`;
  return (err as Error).message ?? String(err);
}

async function call(io: Io, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...callFlags, 'show-meta': { type: 'boolean' } });
  if (values.help) return help(io, 'call');
  const s = await callSettings(io, positionals, values);
  const open = await openClient(s.target, s.servicePath, { serializeType: s.serializeType, timeoutMs: s.timeoutMs, auth: s.auth });
  try {
    const responseMetadata: Metadata = {};
    let reply: unknown;
    try {
      reply = await open.client.call(s.method, s.args, { metadata: s.metadata, responseMetadata, timeoutMs: s.timeoutMs });
    } catch (err) {
      throw new CliError(describeFailure(err, s), { cause: err });
    }
    if (values['show-meta']) io.err(`${formatJson(responseMetadata)}\n`);
    if (s.codecName === 'raw') {
      io.out(reply as Uint8Array);
    } else {
      io.out(formatJson(reply) + '\n');
    }
    return 0;
  } finally {
    await open.close();
  }
}

async function list(io: Io, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...common, json: { type: 'boolean' } });
  if (values.help) return help(io, 'list');
  const [targetText, service, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const target = parseTarget(targetText);
  if (target.kind !== 'registry') throw new UsageError(`${JSON.stringify(targetText)} is a server, not a registry; list reads etcd://, zookeeper://, consul://, redis:// or mdns:// registries`);
  const timeoutMs = values.timeout === undefined ? 5000 : parseDuration(values.timeout, '--timeout');
  let services: Map<string, ServiceEntry[]>;
  if (service !== undefined) {
    const { discovery, servers } = await registryServers(target, service, timeoutMs);
    await discovery.close().catch(() => {});
    services = new Map([[service, servers]]);
  } else {
    services = await registryServices(target, timeoutMs);
  }
  const names = [...services.keys()].sort();
  if (values.json) {
    io.out(formatJson(Object.fromEntries(names.map((n) => [n, services.get(n)!.map((e) => ({ server: e.key, metadata: e.value }))]))) + '\n');
    return 0;
  }
  if (names.length === 0) {
    io.err(`no services under ${target.text}\n`);
    return 0;
  }
  const rows = [['SERVICE', 'SERVER', 'METADATA']];
  for (const name of names) {
    const servers = services.get(name)!;
    if (servers.length === 0) rows.push([name, '-', '']);
    for (const e of servers) rows.push([name, e.key, e.value]);
  }
  io.out(table(rows) + '\n');
  return 0;
}

async function bench(io: Io, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...callFlags,
    clients: { type: 'string' },
    inflight: { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) return help(io, 'bench');
  const s = await callSettings(io, positionals, values);
  const clients = values.clients === undefined ? 1 : parseCount(values.clients, '--clients');
  const inflight = values.inflight === undefined ? 16 : parseCount(values.inflight, '--inflight');
  const durationMs = values.duration === undefined ? 5000 : parseDuration(values.duration, '--duration');
  if (durationMs <= 0) throw new UsageError('--duration must be more than 0');

  const opened: OpenClient[] = [];
  try {
    for (let i = 0; i < clients; i++) {
      opened.push(await openClient(s.target, s.servicePath, { serializeType: s.serializeType, timeoutMs: s.timeoutMs, auth: s.auth }));
    }
    const options = { metadata: s.metadata, timeoutMs: s.timeoutMs };
    // One call first, so a wrong address or method fails at once with a clear message.
    for (const o of opened) {
      try {
        await o.client.call(s.method, s.args, options);
      } catch (err) {
        throw new CliError(describeFailure(err, s), { cause: err });
      }
    }

    const hist = new Histogram();
    const errors = new Map<string, number>();
    let failed = 0;
    const start = performance.now();
    const stopAt = start + durationMs;
    const worker = async (o: OpenClient) => {
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        try {
          await o.client.call(s.method, s.args, options);
          hist.record((performance.now() - t0) * 1000);
        } catch (err) {
          failed++;
          const text = (err as Error).message;
          errors.set(text, (errors.get(text) ?? 0) + 1);
        }
      }
    };
    const progress = io.errIsTTY
      ? setInterval(() => {
          const elapsed = (performance.now() - start) / 1000;
          const done = hist.count + failed;
          io.err(`\r\x1b[2K${elapsed.toFixed(1)}s  ${done} calls  ${Math.round(done / elapsed)}/s  p50 ${ms(hist.percentile(50) / 1000)}  errors ${failed}`);
        }, 200)
      : undefined;
    try {
      await Promise.all(opened.flatMap((o) => Array.from({ length: inflight }, () => worker(o))));
    } finally {
      if (progress) {
        clearInterval(progress);
        io.err('\r\x1b[2K');
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const lat = (p: number) => hist.percentile(p) / 1000;
    const summary = {
      target: targetText(s.target),
      method: `${s.servicePath}.${s.method}`,
      codec: s.codecName,
      clients,
      inflight,
      seconds: Number(seconds.toFixed(3)),
      calls: hist.count,
      callsPerSecond: Math.round(hist.count / seconds),
      errors: failed,
      latencyMs: hist.count === 0 ? null : { min: hist.min / 1000, p50: lat(50), p90: lat(90), p99: lat(99), max: hist.max / 1000 },
      errorMessages: Object.fromEntries(errors),
    };
    if (values.json) {
      io.out(formatJson(summary) + '\n');
    } else {
      io.out(
        `${summary.method} at ${summary.target}, ${s.codecName}, ${clients} × ${inflight} in flight, ${seconds.toFixed(1)}s\n\n` +
          table([
            ['calls', 'calls/s', 'errors', 'min', 'p50', 'p90', 'p99', 'max'],
            [
              String(hist.count),
              String(summary.callsPerSecond),
              String(failed),
              ...(hist.count === 0 ? ['-', '-', '-', '-', '-'] : [ms(hist.min / 1000), ms(lat(50)), ms(lat(90)), ms(lat(99)), ms(hist.max / 1000)]),
            ],
          ]) +
          '\n',
      );
      for (const [text, n] of errors) io.out(`  ${n} × ${text}\n`);
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await Promise.all(opened.map((o) => o.close()));
  }
}

/** What `startConsole` of @rpcx/ui takes and gives, as far as the command uses it. */
interface UiModule {
  startConsole(options: {
    target: { registry: Awaited<ReturnType<typeof registryDiscovery>>; label: string } | { server: string };
    listen: string;
    auth?: string;
    transportsFor: typeof transportsFor;
    timeoutMs: number;
  }): Promise<{ url: string; close(): Promise<void> }>;
}

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;

async function ui(io: Io, argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...common, listen: { type: 'string' }, auth: { type: 'string' } });
  if (values.help) return help(io, 'ui');
  const [targetText, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const target = parseTarget(targetText);
  const timeoutMs = values.timeout === undefined ? 5000 : parseDuration(values.timeout, '--timeout');
  const listen = values.listen ?? '127.0.0.1:8088';
  const colon = listen.lastIndexOf(':');
  if (colon <= 0 || !/^\d{1,5}$/.test(listen.slice(colon + 1))) throw new UsageError(`invalid --listen ${JSON.stringify(listen)}: expected host:port, e.g. 127.0.0.1:8088`);
  if (!LOOPBACK_HOST.test(listen.slice(0, colon)) && values.auth === undefined) {
    throw new UsageError(`--listen ${listen} is reachable from other machines: give --auth TOKEN too`);
  }
  if (values.auth !== undefined && values.auth.length < 8) throw new UsageError('--auth: the token must be at least 8 characters');
  const mod = (await optional('@rpcx/ui', 'rpcx ui')) as unknown as UiModule;
  const consoleTarget = target.kind === 'server' ? { server: target.key } : { registry: await registryDiscovery(target, '', timeoutMs), label: target.text };
  let running: Awaited<ReturnType<UiModule['startConsole']>>;
  try {
    running = await mod.startConsole({ target: consoleTarget, listen, auth: values.auth, transportsFor, timeoutMs });
  } catch (err) {
    // The console's errors already say what failed and where (with the registry's own words).
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  io.out(`rpcx ui: ${targetText} at ${running.url}\n`);
  await interrupted();
  await running.close();
  return 0;
}

/** Resolves on the first SIGINT or SIGTERM (then stops listening for them). */
function interrupted(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

function help(io: Io, command?: string): number {
  io.out(command ? HELP[command] : TOP_HELP);
  return 0;
}

/** Run the `rpcx` command line; resolves to the exit status. */
export async function run(argv: string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'call':
        return await call(io, rest);
      case 'list':
        return await list(io, rest);
      case 'bench':
        return await bench(io, rest);
      case 'upload': {
        const { values, positionals } = parse(rest, uploadFlags);
        return values.help ? help(io, 'upload') : await upload(io, positionals, values);
      }
      case 'download': {
        const { values, positionals } = parse(rest, transferFlags);
        return values.help ? help(io, 'download') : await download(io, positionals, values);
      }
      case 'ui':
        return await ui(io, rest);
      case 'help':
        if (rest[0] !== undefined && !(rest[0] in HELP)) throw new UsageError(`unknown command ${JSON.stringify(rest[0])}`);
        return help(io, rest[0]);
      case '-h':
      case '--help':
        return help(io);
      case '-v':
      case '--version':
        io.out(`${version()}\n`);
        return 0;
      case undefined:
        io.err(TOP_HELP);
        return 2;
      default:
        io.err(`rpcx: unknown command ${JSON.stringify(command)}\n\n${TOP_HELP}`);
        return 2;
    }
  } catch (err) {
    const name = command && command in HELP ? `rpcx ${command}` : 'rpcx';
    if (err instanceof UsageError) {
      io.err(`${name}: ${err.message}\nRun "${name} --help" for usage.\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.err(`${name}: ${err.message}\n`);
      return 1;
    }
    io.err(`${name}: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

