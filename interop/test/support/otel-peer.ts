// Build, start and drive the Go OpenTelemetry peer (interop/go-otel: real rpcx v1.9.4 with
// rpcx-plugins' client and server OTel plugins and the W3C TraceContext propagator). It
// prints every finished span as `SPAN {json}`.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startListeningPeer } from './go-peer.js';

export const GO_OTEL_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'go-otel');
export const OTELPEER = join(GO_OTEL_DIR, 'bin', 'otelpeer');

/** A span as the Go peer prints it. */
export interface GoSpan {
  name: string;
  kind: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  parentRemote: boolean;
  statusCode: string;
  statusMessage?: string;
  attributes: Record<string, string>;
}

/**
 * Build `otelpeer` (Go's build cache makes it a no-op when nothing changed; the modules come
 * through the Go module proxy the first time). A lock file keeps two jest workers from writing
 * the binary at once.
 */
export function buildOtelPeer(): void {
  mkdirSync(join(GO_OTEL_DIR, 'bin'), { recursive: true });
  try {
    execFileSync('flock', [join(GO_OTEL_DIR, 'bin', '.build.lock'), 'go', 'build', '-o', 'bin/otelpeer', './cmd/otelpeer'], {
      cwd: GO_OTEL_DIR,
      stdio: ['ignore', 'inherit', 'pipe'],
      timeout: 600_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`building interop/go-otel failed (is Go installed?): ${(err as Error).message}\n${stderr}`);
  }
}

function spansIn(lines: string[]): GoSpan[] {
  return lines.filter((l) => l.startsWith('SPAN ')).map((l) => JSON.parse(l.slice(5)) as GoSpan);
}

export interface GoOtelServer {
  /** `host:port` it listens on. */
  address: string;
  /** The spans printed so far. */
  spans(): GoSpan[];
  stderr(): string;
  /** SIGTERM, SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** `otelpeer server`: a Go rpcx server with the server OTel plugin, serving `Echo.Say`. */
export async function startGoOtelServer(): Promise<GoOtelServer> {
  const lines: string[] = [];
  const peer = await startListeningPeer('otelpeer server', OTELPEER, ['server', '--addr', '127.0.0.1:0'], { onStdoutLine: (line) => lines.push(line) });
  return { address: peer.key, spans: () => spansIn(lines), stderr: peer.stderr, stop: peer.stop };
}

/** `otelpeer client`: one call inside a root span; resolves with the reply (or the error text) and the client's spans. */
export function runGoOtelClient(address: string, service: string, method: string, text: string): Promise<{ reply?: unknown; error?: string; spans: GoSpan[] }> {
  const args = ['client', '--addr', address, '--service', service, '--method', method, '--text', text];
  return new Promise((resolve, reject) => {
    execFile(OTELPEER, args, { timeout: 20_000, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const lines = stdout.split('\n');
      const replyLine = lines.find((l) => l.startsWith('REPLY '));
      const errorLine = lines.find((l) => l.startsWith('ERROR '));
      if (err || (!replyLine && !errorLine)) return reject(new Error(`otelpeer ${args.join(' ')} failed: ${err?.message ?? 'no reply'}\n${stdout}\n${stderr}`));
      const spans = spansIn(lines);
      resolve(replyLine ? { reply: JSON.parse(replyLine.slice(6)), spans } : { error: errorLine!.slice(6), spans });
    });
  });
}
