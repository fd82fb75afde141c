// `rpcx upload` and `rpcx download`: Go rpcx's file transfer (the `_filetransfer` service and
// its side listener) from a terminal, through @rpcx/file-transfer.
import { createWriteStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { ServiceError, SideChannelError, TimeoutError, ConnectionError, NoServerError } from '@rpcx/core';
import { SEND_FILE_SERVICE_NAME, downloadFile, sendFile, type SideOptions } from '@rpcx/file-transfer';
import { UsageError, parseDuration, parseMeta, parseTarget, type Target } from './args.js';
import { CliError, openClient } from './connect.js';
import { formatJson } from '@rpcx/codec-json';
import type { Io } from './cli.js';

export const TRANSFER_HELP = {
  upload: `Usage: rpcx upload <address|registry> <file> [options]

Send a local file to the server's file transfer (Go's XClient.SendFile): the
_filetransfer service hands out a token and the address of its side listener,
and the file goes there. A progress bar is drawn on stderr when it is a terminal.

Options:
  --name NAME              the file name the server is told (default: the file's base name)
  --rate BYTES             cap the upload at BYTES per second: 500K, 10M, 1G (default: no cap)
  --meta key=value         sent with the file (Go's meta); repeat for more
  --codec json|msgpack     encoding of the rpcx call (default msgpack)
  --auth TOKEN             auth token, sent as __AUTH (Go XClient.Auth)
  --tls                    dial the side listener over TLS (only servers that offer it; Go's do not)
  --tls-ca FILE            ... trusting the CA certificate(s) in FILE
  --timeout DURATION       for the rpcx call and the dial (default 5s); a stalled transfer fails after 60s
  --json                   print the summary as JSON
  -h, --help               this text

Example:
  rpcx upload tcp@127.0.0.1:8972 ./backup.tar --rate 10M --meta owner=ops

Exit status: 0 sent, 1 the transfer failed, 2 wrong arguments.
`,
  download: `Usage: rpcx download <address|registry> <name> [out] [options]

Fetch the server's file <name> (Go's XClient.DownloadFile) into [out]: a path
(default: <name> in the current directory) or - for stdout. A progress line is
drawn on stderr when it is a terminal. A failed download leaves no file behind.

Options:
  --meta key=value         sent with the request (Go's meta); repeat for more
  --codec json|msgpack     encoding of the rpcx call (default msgpack)
  --auth TOKEN             auth token, sent as __AUTH (Go XClient.Auth)
  --tls, --tls-ca FILE     as for upload
  --timeout DURATION       for the rpcx call and the dial (default 5s); a stalled transfer fails after 60s
  --json                   print the summary as JSON (not with out = -)
  -h, --help               this text

Example:
  rpcx download tcp@127.0.0.1:8972 backup.tar /tmp/backup.tar

Exit status: 0 received, 1 the transfer failed, 2 wrong arguments.
`,
};

export const transferFlags = {
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  codec: { type: 'string' },
  meta: { type: 'string', multiple: true },
  auth: { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const uploadFlags = { ...transferFlags, name: { type: 'string' }, rate: { type: 'string' } } as const;

const CODECS: Record<string, number> = { json: 1, msgpack: 3 };
const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `500K`, `10M`, `1G` (binary units, an optional `B`/`iB`), or plain bytes. */
export function parseBytes(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?$/i.exec(text);
  const n = m ? Math.round(Number(m[1]) * UNITS[m[2].toUpperCase()]) : NaN;
  if (!(n > 0)) throw new UsageError(`invalid ${flag} ${JSON.stringify(text)}: expected bytes, e.g. 500K, 10M or 1G`);
  return n;
}

interface Common {
  target: Target;
  timeoutMs: number;
  serializeType: number;
  auth: string | undefined;
  side: SideOptions;
}

async function common(values: Record<string, unknown>, targetText: string | undefined): Promise<Common> {
  const target = parseTarget(targetText);
  const timeoutMs = values.timeout === undefined ? 5000 : parseDuration(values.timeout as string, '--timeout');
  const codec = (values.codec as string | undefined) ?? 'msgpack';
  const serializeType = CODECS[codec];
  if (serializeType === undefined) throw new UsageError(`unknown --codec ${JSON.stringify(codec)}: json or msgpack (what Go's file transfer can use)`);
  const caFile = values['tls-ca'] as string | undefined;
  let tls: SideOptions['tls'] = values.tls === true;
  if (caFile !== undefined) {
    try {
      tls = { ca: await readFile(caFile) };
    } catch (err) {
      throw new UsageError(`cannot read --tls-ca ${caFile}: ${(err as Error).message}`);
    }
  }
  const side: SideOptions = {
    meta: parseMeta((values.meta as string[] | undefined) ?? []),
    serializeType,
    tls,
    timeoutMs: timeoutMs || undefined,
    connectTimeoutMs: Math.min(timeoutMs || 5000, 5000),
  };
  return { target, timeoutMs, serializeType, auth: values.auth as string | undefined, side };
}

/** A transfer failure in words, with where it happened. */
function describe(err: unknown, what: string, where: string): string {
  if (err instanceof ServiceError) return `${what}: the server said: ${err.message}`;
  if (err instanceof SideChannelError) return `${what}: ${err.message}`;
  if (err instanceof TimeoutError) return `${what}: no answer from ${where} in time (${err.message})`;
  if (err instanceof ConnectionError) return `${what}: cannot reach ${where}: ${err.message}`;
  if (err instanceof NoServerError) return `${what}: ${where}: no server offers ${SEND_FILE_SERVICE_NAME}`;
  return `${what}: ${(err as Error)?.message ?? String(err)}`;
}

const MiB = 1024 * 1024;
const size = (bytes: number) => (bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} B`);

/** A progress line on stderr, redrawn at most every 100 ms; nothing when stderr is not a terminal. */
function progressLine(io: Io, label: string) {
  const started = performance.now();
  let last = 0;
  const draw = (bytes: number, total: number | undefined) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? `${size(bytes / seconds)}/s` : '';
    if (total === undefined || total <= 0) {
      io.err(`\r\x1b[2K${label}  ${size(bytes)}  ${rate}`);
      return;
    }
    const share = Math.min(1, bytes / total);
    const width = 30;
    const filled = Math.round(share * width);
    io.err(`\r\x1b[2K${label}  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${size(bytes)} / ${size(total)}  ${rate}`);
  };
  return {
    update(bytes: number, total: number | undefined) {
      if (!io.errIsTTY) return;
      const now = performance.now();
      if (now - last < 100 && bytes !== total) return;
      last = now;
      draw(bytes, total);
    },
    clear() {
      if (io.errIsTTY) io.err('\r\x1b[2K');
    },
    seconds: () => (performance.now() - started) / 1000,
  };
}

function summary(io: Io, json: boolean, what: 'uploaded' | 'downloaded', name: string, bytes: number, seconds: number, where: string): void {
  if (json) {
    io.out(formatJson({ [what]: name, bytes, seconds: Number(seconds.toFixed(3)), server: where }) + '\n');
    return;
  }
  const rate = seconds > 0 ? `, ${size(bytes / seconds)}/s` : '';
  io.out(`${what} ${name}: ${bytes} bytes in ${seconds.toFixed(1)}s${rate}\n`);
}

const whereOf = (t: Target) => (t.kind === 'server' ? t.key : t.text);

export async function upload(io: Io, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const [targetText, file, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (file === undefined) throw new UsageError('missing <file>');
  const c = await common(values, targetText);
  const rate = values.rate === undefined ? 0 : parseBytes(values.rate as string, '--rate');
  const name = (values.name as string | undefined) ?? basename(file);
  const open = await openClient(c.target, SEND_FILE_SERVICE_NAME, { serializeType: c.serializeType, timeoutMs: c.timeoutMs, auth: c.auth });
  const progress = progressLine(io, name);
  try {
    const { bytes } = await sendFile(open.client, file, { ...c.side, fileName: name, rateBytesPerSecond: rate, onProgress: (p) => progress.update(p.bytes, p.total) });
    progress.clear();
    summary(io, values.json === true, 'uploaded', name, bytes, progress.seconds(), whereOf(c.target));
    return 0;
  } catch (err) {
    progress.clear();
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`cannot read ${file}: no such file`);
    throw new CliError(describe(err, `upload of ${name} failed`, whereOf(c.target)));
  } finally {
    await open.close();
  }
}

export async function download(io: Io, positionals: string[], values: Record<string, unknown>): Promise<number> {
  const [targetText, name, outArg, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  if (name === undefined) throw new UsageError('missing <name>');
  const toStdout = outArg === '-';
  if (toStdout && values.json) throw new UsageError('--json needs stdout for the summary: give an output file instead of -');
  const c = await common(values, targetText);
  const outPath = outArg ?? basename(name);
  const open = await openClient(c.target, SEND_FILE_SERVICE_NAME, { serializeType: c.serializeType, timeoutMs: c.timeoutMs, auth: c.auth });
  const progress = progressLine(io, name);
  let out: Writable | undefined;
  try {
    // Bytes, not text: straight to the process's stdout, which `Io` (text only) does not cover.
    out = toStdout ? process.stdout : createWriteStream(outPath);
    const { bytes } = await downloadFile(open.client, name, out, { ...c.side, end: !toStdout, onProgress: (p) => progress.update(p.bytes, p.total) });
    progress.clear();
    if (!toStdout) summary(io, values.json === true, 'downloaded', `${name} → ${outPath}`, bytes, progress.seconds(), whereOf(c.target));
    return 0;
  } catch (err) {
    progress.clear();
    // No cut file is left behind to be taken for the real one.
    if (out && !toStdout) await unlink(outPath).catch(() => {});
    throw new CliError(describe(err, `download of ${name} failed`, whereOf(c.target)));
  } finally {
    await open.close();
  }
}
