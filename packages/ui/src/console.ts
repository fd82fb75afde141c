import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigError, RegistryKeyNotFoundError, splitHostPort, type ServiceDiscovery } from '@rpcx/core';
import { tcpTransport } from '@rpcx/transport-tcp';
import { Caller, type TransportsFor } from './calls.js';
import { Estate } from './estate.js';
import { parseBody, validateCall, validateMetadata, type Invalid } from './validate.js';

export interface ConsoleOptions {
  /**
   * What to show: a registry's discovery (any service path; its `listAll()` lists the
   * estate, `clone()` watches each service, `updateMetadata()` writes) or one server key
   * (`tcp@127.0.0.1:8972`) to call directly. Required. The console closes a discovery given
   * here when it closes.
   */
  target: { registry: ServiceDiscovery; label: string } | { server: string };
  /** `host:port` to serve the page on. Default `127.0.0.1:8088`; port 0 picks a free one. */
  listen?: string;
  /**
   * A token every API request must carry (`Authorization: Bearer <token>`); the page asks
   * for it. Required when `listen` is not a loopback address. Default: none.
   */
  auth?: string;
  /** The transports calls use, by network. Default: TCP only. */
  transportsFor?: TransportsFor;
  /** How often every service is listed again to find new and vanished ones, in ms. Default 2000. */
  pollMs?: number;
  /** Deadline of a registry read, in ms. Default 5000. */
  timeoutMs?: number;
}

export interface RunningConsole {
  /** `http://host:port/`, the page. */
  url: string;
  /** Stop serving, end the live streams, close the clients and the registry discovery. */
  close(): Promise<void>;
}

/** Where the bundled page is (`build-web.mjs` writes it), from src/ and from dist/ alike. */
const WEB_DIR = fileURLToPath(new URL('../dist/web/', import.meta.url));
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
const API_PATHS = new Set(['/api/estate', '/api/events', '/api/metadata', '/api/call']);
/** Largest request body accepted. */
const MAX_BODY = 1 << 20;
const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

const SECURITY_HEADERS = {
  // Everything the page loads comes from this server: no CDN, no inline script.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Serve the console: the page, its JSON API and a live stream of the estate (Server-Sent
 * Events). Resolves once listening. Opens no browser.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const listen = options.listen ?? '127.0.0.1:8088';
  const { host, port } = splitHostPort(listen);
  const bareHost = host.replace(/^\[(.*)\]$/, '$1');
  const loopback = LOOPBACK.test(bareHost);
  if (!loopback && !options.auth) throw new ConfigError(`rpcx ui: listening on ${listen}, off this machine, needs an auth token (--auth TOKEN)`);
  if (options.auth !== undefined && options.auth.length < 8) throw new ConfigError('rpcx ui: the auth token must be at least 8 characters');
  const assets = loadAssets();

  const timeoutMs = options.timeoutMs ?? 5000;
  const target = options.target;
  const estate =
    'server' in target
      ? Estate.ofServer(target.server)
      : await Estate.ofRegistry(target.label, target.registry, options.pollMs ?? 2000, timeoutMs).catch(async (error: unknown) => {
          await target.registry.close().catch(() => undefined);
          throw error;
        });
  const caller = new Caller(estate, options.transportsFor ?? (async () => [tcpTransport()]));
  const streams = new Set<ServerResponse>();
  const token = options.auth === undefined ? undefined : digest(options.auth);

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of streams) res.write(frame);
  };
  estate.onChange(() => broadcast('estate', estate.snapshot()));
  caller.onStats(() => broadcast('calls', caller.stats()));

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug, not an input: answered, logged to the console's stderr, the server goes on.
      process.stderr.write(`rpcx ui: ${req.method} ${req.url}: ${(error as Error)?.stack ?? String(error)}\n`);
      if (!res.headersSent) send(res, 500, { error: `internal error: ${(error as Error)?.message ?? String(error)}` });
      else res.end();
    });
  });

  /** The Host names a page from this console was loaded from (DNS rebinding defence on loopback). */
  let allowedHosts: Set<string>;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    if (loopback && !allowedHosts.has((req.headers.host ?? '').toLowerCase())) {
      return send(res, 421, { error: `unexpected Host ${JSON.stringify(req.headers.host ?? '')}` });
    }
    const asset = ASSETS[url.pathname];
    if (asset && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': asset.type, ...SECURITY_HEADERS });
      res.end(assets.get(asset.file));
      return;
    }
    if (!url.pathname.startsWith('/api/')) return send(res, 404, { error: 'not found' });
    if (token && !authorized(req)) return send(res, 401, { error: 'this console needs its token', auth: true });

    switch (`${req.method} ${url.pathname}`) {
      case 'GET /api/estate':
        return send(res, 200, { ...estate.snapshot(), calls: caller.stats() });
      case 'GET /api/events':
        return openStream(req, res);
      case 'POST /api/metadata':
        return postMetadata(req, res);
      case 'POST /api/call':
        return postCall(req, res);
      default:
        return send(res, API_PATHS.has(url.pathname) ? 405 : 404, { error: `${req.method} ${url.pathname} is not an API of this console` });
    }
  }

  function authorized(req: IncomingMessage): boolean {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]), token!);
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', ...SECURITY_HEADERS });
    res.write(`event: estate\ndata: ${JSON.stringify(estate.snapshot())}\n\nevent: calls\ndata: ${JSON.stringify(caller.stats())}\n\n`);
    streams.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(ping);
      streams.delete(res);
    });
  }

  /** The JSON body of an action, or an answer already sent. */
  async function actionBody(req: IncomingMessage, res: ServerResponse): Promise<Record<string, unknown> | undefined> {
    // A JSON content type cannot be sent cross-site without a CORS preflight, which this
    // server never grants; a foreign Origin is refused outright.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      send(res, 415, { error: 'send the request as application/json' });
      return undefined;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}` && origin !== `https://${req.headers.host}`) {
      send(res, 403, { error: `requests from ${origin} are not accepted` });
      return undefined;
    }
    const text = await readBody(req, MAX_BODY);
    if (text === undefined) {
      send(res, 413, { error: `the request body is over ${MAX_BODY} bytes` });
      return undefined;
    }
    const body = parseBody(text);
    if (!body.ok) {
      send(res, 400, { error: body.error });
      return undefined;
    }
    return body.value;
  }

  async function postMetadata(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await actionBody(req, res);
    if (!body) return;
    const checked = validateMetadata(body);
    if (!checked.ok) return send(res, 400, invalidAnswer(checked));
    const registry = estate.discovery;
    if (!registry?.updateMetadata) return send(res, 409, { error: `${estate.label} is not a registry this console can write to` });
    const { service, server: key, changes } = checked.value;
    if (!estate.servers(service).some((e) => e.key === key)) return send(res, 404, { error: `${key} is not a server of ${service} in ${estate.label}` });
    try {
      const value = await registry.updateMetadata(service, key, changes);
      return send(res, 200, { service, server: key, metadata: value });
    } catch (error) {
      const status = error instanceof RegistryKeyNotFoundError ? 404 : 502;
      return send(res, status, { error: `cannot update ${key} of ${service}: ${(error as Error).message}`, code: (error as { code?: string }).code });
    }
  }

  async function postCall(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await actionBody(req, res);
    if (!body) return;
    const checked = validateCall(body);
    if (!checked.ok) return send(res, 400, invalidAnswer(checked));
    const result = await caller.call(checked.value);
    return send(res, 200, result);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(port), bareHost, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: Error) => {
    await Promise.all([caller.close(), estate.close()]);
    if ('registry' in target) await target.registry.close().catch(() => undefined);
    throw new ConfigError(`rpcx ui: cannot listen on ${listen}: ${error.message}`, { cause: error });
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  allowedHosts = new Set([`${shown}:${bound.port}`, `localhost:${bound.port}`, `127.0.0.1:${bound.port}`, `[::1]:${bound.port}`]);

  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${bound.port}/`,
    close() {
      closing ??= (async () => {
        for (const res of streams) res.end();
        streams.clear();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await caller.close();
        await estate.close();
        if ('registry' in target) await target.registry.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}

function invalidAnswer(invalid: Invalid): Invalid {
  return { error: invalid.error, ...(invalid.field ? { field: invalid.field } : {}) };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
  res.end(JSON.stringify(body));
}

/** The body as text, or undefined when it is over `limit` bytes (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The bundled page, read once. */
function loadAssets(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const { file } of Object.values(ASSETS)) {
    const path = `${WEB_DIR}${file}`;
    if (!existsSync(path)) throw new ConfigError(`rpcx ui: the page is not built (${file} missing in @rpcx/ui's dist/web): run pnpm build`);
    files.set(file, readFileSync(path));
  }
  return files;
}
