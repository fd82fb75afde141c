/**
 * A stand-in for a Consul agent's HTTP API, for tests on machines where no Consul can be
 * installed. It implements exactly what @rpcx/registry-consul uses, following Consul's
 * documented semantics (KV store and session endpoints, blocking queries) and its state
 * store where the documentation is silent; anything else is answered 400, so the package
 * cannot silently depend on something the stand-in does not model.
 *
 * - `GET /v1/kv/<key>` with `?recurse`, `?index=&wait=` (blocking), `?consistent`/`?stale`
 *   (accepted, single node). Index: for a found key its ModifyIndex, for a listing the highest
 *   ModifyIndex under the prefix or tombstone there, else the KV table index (at least 1).
 *   404 when nothing matches, still with `X-Consul-Index`.
 * - `PUT /v1/kv/<key>` with `?flags=` (uint64) and `?acquire=<session>`. A plain set keeps
 *   the key's session; a set that changes nothing does not move the index; acquire fails
 *   while another session holds the key or during the key's lock-delay, and errors (500) for
 *   an unknown session.
 * - `DELETE /v1/kv/<key>` (a tombstone keeps the listing index from going backwards).
 * - `PUT /v1/session/create` (Name, Node, LockDelay as a duration string or a number —
 *   below 1000 it means seconds —, Behavior `release`|`delete`, TTL between the minimum
 *   (Consul's `session_ttl_min`, default 10 s) and 24 h); a session with a TTL is invalidated
 *   when it is not renewed for 2 × TTL, as Consul does.
 * - `PUT /v1/session/renew/<id>` (404 once invalidated), `PUT /v1/session/destroy/<id>`,
 *   `GET /v1/session/info/<id>`.
 * - Invalidating a session deletes (Behavior `delete`) or unlocks (`release`) every key it
 *   holds and starts each key's lock-delay.
 *
 * Not modelled: ACLs, datacenters, health checks on sessions, CAS, `?keys`, `?raw`,
 * transactions, tombstone reaping. `stop()`/`start()` take the HTTP listener away and back
 * (an unreachable agent whose cluster keeps its state and timers).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const SESSION_TTL_MAX_NS = 24n * 3600n * 1_000_000_000n;
const MAX_LOCK_DELAY_NS = 60n * 1_000_000_000n;
const MAX_VALUE_SIZE = 512 * 1024;
const NODE_NAME = 'consul-standin';

interface KvEntry {
  key: string;
  value: Buffer | null;
  flags: bigint;
  session: string;
  createIndex: number;
  modifyIndex: number;
  lockIndex: number;
}

interface Session {
  id: string;
  name: string;
  node: string;
  lockDelayNs: bigint;
  behavior: 'release' | 'delete';
  ttl: string;
  ttlNs: bigint;
  createIndex: number;
  modifyIndex: number;
  timer?: NodeJS.Timeout;
}

interface Waiter {
  key: string;
  recurse: boolean;
  wake: () => void;
}

/** One request as the stand-in saw it, for tests of what goes on the wire. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  µs: 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go `time.ParseDuration`, to nanoseconds (integer and decimal parts, several units). */
export function parseGoDuration(text: string): bigint {
  if (text === '0') return 0n;
  const sign = text.startsWith('-') ? -1n : 1n;
  const body = text.replace(/^[-+]/, '');
  const re = /(\d*)(?:\.(\d*))?(ns|us|µs|ms|s|m|h)/y;
  let total = 0n;
  let at = 0;
  while (at < body.length) {
    re.lastIndex = at;
    const m = re.exec(body);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) throw new Error(`time: invalid duration "${text}"`);
    const unit = UNITS[m[3]];
    const frac = m[2] ?? '';
    total += BigInt(m[1] || '0') * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
    at = re.lastIndex;
  }
  if (body === '') throw new Error(`time: invalid duration "${text}"`);
  return sign * total;
}

/** Go `time.Duration.String` of nanoseconds. */
function formatNs(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  let v = neg ? -ns : ns;
  const frac = (x: bigint, digits: number) => {
    const p = 10n ** BigInt(digits);
    const f = (x % p).toString().padStart(digits, '0').replace(/0+$/, '');
    return f ? `${x / p}.${f}` : `${x / p}`;
  };
  let out: string;
  if (v < 1_000_000_000n) {
    out = v < 1000n ? `${v}ns` : v < 1_000_000n ? `${frac(v, 3)}µs` : `${frac(v, 6)}ms`;
  } else {
    const secs = frac(v % 60_000_000_000n, 9);
    v /= 60_000_000_000n;
    const hours = v / 60n;
    const mins = v % 60n;
    out = hours > 0n ? `${hours}h${mins}m${secs}s` : mins > 0n ? `${mins}m${secs}s` : `${secs}s`;
  }
  return neg ? `-${out}` : out;
}

export interface ConsulStandInOptions {
  /** Consul's `session_ttl_min`. Default 10 s, as Consul; tests lower it as an agent can. */
  sessionTtlMinMs?: number;
}

export class ConsulStandIn {
  /** Every request seen, in order. */
  readonly requests: SeenRequest[] = [];
  private readonly kv = new Map<string, KvEntry>();
  private readonly tombstones = new Map<string, number>();
  private readonly sessions = new Map<string, Session>();
  private readonly lockDelays = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private readonly sockets = new Set<Socket>();
  private readonly sessionTtlMinNs: bigint;
  /** The Raft index: bumped by every write that changes something. */
  private index = 1;
  /** Highest index of the KV and tombstone tables. */
  private kvTableIndex = 0;
  private server: Server | undefined;

  private constructor(
    private port: number,
    options: ConsulStandInOptions,
  ) {
    this.sessionTtlMinNs = BigInt(options.sessionTtlMinMs ?? 10_000) * 1_000_000n;
  }

  static async start(options: ConsulStandInOptions = {}): Promise<ConsulStandIn> {
    const standIn = new ConsulStandIn(0, options);
    await standIn.start();
    return standIn;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Listen (again, on the same port after the first time). */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stop answering: the listener closes and every open connection (blocking queries too) is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const waiter of this.waiters) waiter.wake();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stop listening and clear every session timer. */
  async destroy(): Promise<void> {
    await this.stop();
    for (const session of this.sessions.values()) clearTimeout(session.timer);
  }

  /** The stored entry of `key`, as the state store holds it (for assertions). */
  entry(key: string): Readonly<KvEntry> | undefined {
    return this.kv.get(key);
  }

  /** The session `id`, if it is still valid. */
  session(id: string): Readonly<Session> | undefined {
    return this.sessions.get(id);
  }

  // ---- HTTP ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://consul');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? '', path: url.pathname, query, body: body.toString() });
    try {
      let path: string;
      try {
        path = decodeURIComponent(url.pathname);
      } catch {
        throw new HttpError(400, 'invalid path escape');
      }
      if (path.startsWith('/v1/kv/')) await this.kvEndpoint(req.method ?? '', path.slice('/v1/kv/'.length), url.searchParams, body, res);
      else if (path.startsWith('/v1/session/')) this.sessionEndpoint(req.method ?? '', path.slice('/v1/session/'.length), url.searchParams, body, res);
      else throw new HttpError(404, `consul stand-in: no endpoint ${path}`);
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      if (!res.headersSent) {
        res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(error instanceof Error ? error.message : String(error));
      }
    }
  }

  private allow(params: URLSearchParams, allowed: string[]): void {
    for (const name of params.keys()) {
      if (!allowed.includes(name)) throw new HttpError(400, `consul stand-in: ?${name} is not implemented`);
    }
  }

  private json(res: ServerResponse, status: number, text: string, index?: number): void {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (index !== undefined) {
      headers['X-Consul-Index'] = String(index);
      headers['X-Consul-Knownleader'] = 'true';
      headers['X-Consul-Lastcontact'] = '0';
    }
    res.writeHead(status, headers);
    res.end(text);
  }

  private async kvEndpoint(method: string, key: string, params: URLSearchParams, body: Buffer, res: ServerResponse): Promise<void> {
    if (method === 'GET') {
      this.allow(params, ['recurse', 'index', 'wait', 'consistent', 'stale']);
      const recurse = params.has('recurse');
      const minIndex = params.has('index') ? Number(params.get('index')) : 0;
      if (!Number.isSafeInteger(minIndex) || minIndex < 0) throw new HttpError(400, `Invalid index: ${params.get('index')}`);
      let waitNs = params.has('wait') ? parseGoDuration(params.get('wait')!) : 300_000_000_000n;
      if (waitNs > 600_000_000_000n) waitNs = 600_000_000_000n;
      const read = () => (recurse ? this.list(key) : this.get(key));
      let result = read();
      if (minIndex > 0 && result.index <= minIndex) {
        // A blocking query: wait for a write under the key, or the wait time plus jitter.
        const waitMs = Number(waitNs / 1_000_000n);
        const deadline = Date.now() + waitMs + Math.random() * (waitMs / 16);
        while (result.index <= minIndex && Date.now() < deadline && this.server) {
          await new Promise<void>((resolve) => {
            const waiter: Waiter = { key, recurse, wake: () => done() };
            const timer = setTimeout(() => done(), deadline - Date.now());
            const done = () => {
              clearTimeout(timer);
              this.waiters.delete(waiter);
              resolve();
            };
            this.waiters.add(waiter);
          });
          result = read();
        }
        if (!this.server) return; // stopped: the socket is gone
      }
      if (result.entries.length === 0) this.json(res, 404, '', result.index);
      else this.json(res, 200, `[${result.entries.map((e) => this.renderEntry(e)).join(',')}]`, result.index);
      return;
    }
    if (method === 'PUT') {
      this.allow(params, ['flags', 'acquire']);
      if (key === '') throw new HttpError(400, 'Missing key name');
      if (body.length > MAX_VALUE_SIZE) throw new HttpError(413, `Request body(${body.length} bytes) too large, max size: ${MAX_VALUE_SIZE} bytes`);
      let flags = 0n;
      if (params.has('flags')) {
        const text = params.get('flags')!;
        if (!/^\d+$/.test(text) || BigInt(text) >= 2n ** 64n) throw new HttpError(400, `Invalid flags: ${text}`);
        flags = BigInt(text);
      }
      const value = body.length > 0 ? body : null;
      const ok = params.has('acquire') ? this.acquire(key, value, flags, params.get('acquire')!) : (this.set(key, value, flags), true);
      this.json(res, 200, String(ok));
      return;
    }
    if (method === 'DELETE') {
      this.allow(params, []);
      this.deleteKey(key);
      this.json(res, 200, 'true');
      return;
    }
    throw new HttpError(405, `method ${method} not allowed`);
  }

  private sessionEndpoint(method: string, rest: string, params: URLSearchParams, body: Buffer, res: ServerResponse): void {
    this.allow(params, []);
    const [op, id = ''] = rest.split('/', 2);
    if (op === 'create' && method === 'PUT') {
      const id = this.createSession(body.length > 0 ? (JSON.parse(body.toString()) as Record<string, unknown>) : {});
      this.json(res, 200, JSON.stringify({ ID: id }));
    } else if (op === 'renew' && method === 'PUT') {
      const session = this.sessions.get(id);
      if (!session) throw new HttpError(404, `Session id '${id}' not found`);
      this.armTimer(session);
      this.json(res, 200, `[${this.renderSession(session)}]`, this.index);
    } else if (op === 'destroy' && method === 'PUT') {
      this.invalidate(id);
      this.json(res, 200, 'true');
    } else if (op === 'info' && method === 'GET') {
      const session = this.sessions.get(id);
      this.json(res, 200, session ? `[${this.renderSession(session)}]` : '[]', this.index);
    } else {
      throw new HttpError(404, `consul stand-in: no endpoint ${method} /v1/session/${rest}`);
    }
  }

  private renderEntry(e: KvEntry): string {
    // Flags are a uint64: written as digits, never through a JS number.
    const session = e.session ? `,"Session":${JSON.stringify(e.session)}` : '';
    const value = e.value ? JSON.stringify(e.value.toString('base64')) : 'null';
    return `{"LockIndex":${e.lockIndex},"Key":${JSON.stringify(e.key)},"Flags":${e.flags},"Value":${value}${session},"CreateIndex":${e.createIndex},"ModifyIndex":${e.modifyIndex}}`;
  }

  private renderSession(s: Session): string {
    return JSON.stringify({
      ID: s.id,
      Name: s.name,
      Node: s.node,
      LockDelay: Number(s.lockDelayNs),
      Behavior: s.behavior,
      TTL: s.ttl,
      NodeChecks: [],
      ServiceChecks: null,
      CreateIndex: s.createIndex,
      ModifyIndex: s.modifyIndex,
    });
  }

  // ---- state store ----

  private get(key: string): { index: number; entries: KvEntry[] } {
    const entry = this.kv.get(key);
    return entry ? { index: entry.modifyIndex, entries: [entry] } : { index: Math.max(this.kvTableIndex, 1), entries: [] };
  }

  private list(prefix: string): { index: number; entries: KvEntry[] } {
    const entries = [...this.kv.values()].filter((e) => e.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
    let index = 0;
    for (const e of entries) index = Math.max(index, e.modifyIndex);
    for (const [key, at] of this.tombstones) if (key.startsWith(prefix)) index = Math.max(index, at);
    if (prefix === '' || index === 0) index = this.kvTableIndex;
    return { index: Math.max(index, 1), entries };
  }

  private changed(key: string): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.recurse ? key.startsWith(waiter.key) : key === waiter.key) waiter.wake();
    }
  }

  /** KVSSet: a plain write keeps the key's session; one that changes nothing moves no index. */
  private set(key: string, value: Buffer | null, flags: bigint): void {
    const existing = this.kv.get(key);
    if (existing && existing.flags === flags && existing.lockIndex === 0 && sameBytes(existing.value, value)) return;
    const idx = ++this.index;
    this.kv.set(key, {
      key,
      value,
      flags,
      session: existing?.session ?? '',
      createIndex: existing?.createIndex ?? idx,
      modifyIndex: idx,
      lockIndex: 0,
    });
    this.tombstones.delete(key);
    this.kvTableIndex = idx;
    this.changed(key);
  }

  /** KVSLock: take (or keep) the lock for `sessionId` and write the value. */
  private acquire(key: string, value: Buffer | null, flags: bigint, sessionId: string): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) throw new HttpError(500, `invalid session "${sessionId}"`);
    const delayUntil = this.lockDelays.get(key);
    if (delayUntil !== undefined && delayUntil > Date.now()) return false;
    const existing = this.kv.get(key);
    let lockIndex: number;
    if (existing?.session === sessionId) lockIndex = existing.lockIndex;
    else if (existing?.session) return false;
    else lockIndex = (existing?.lockIndex ?? 0) + 1;
    const next = { key, value, flags, session: sessionId, lockIndex };
    if (existing && existing.session === sessionId && existing.flags === flags && sameBytes(existing.value, value)) return true;
    const idx = ++this.index;
    this.kv.set(key, { ...next, createIndex: existing?.createIndex ?? idx, modifyIndex: idx });
    this.tombstones.delete(key);
    this.kvTableIndex = idx;
    this.changed(key);
    return true;
  }

  private deleteKey(key: string): void {
    if (!this.kv.has(key)) return;
    const idx = ++this.index;
    this.kv.delete(key);
    this.tombstones.set(key, idx);
    this.kvTableIndex = idx;
    this.changed(key);
  }

  private createSession(body: Record<string, unknown>): string {
    const known = ['Name', 'Node', 'LockDelay', 'Behavior', 'TTL', 'Checks', 'NodeChecks', 'ServiceChecks'];
    for (const field of Object.keys(body)) if (!known.includes(field)) throw new HttpError(400, `Request decode failed: unknown field "${field}"`);
    for (const field of ['Checks', 'NodeChecks', 'ServiceChecks']) {
      const checks = body[field];
      if (Array.isArray(checks) && checks.length > 0) throw new HttpError(400, 'consul stand-in: session health checks are not implemented');
    }
    const node = body.Node === undefined ? NODE_NAME : String(body.Node);
    if (node !== NODE_NAME) throw new HttpError(500, `Failed to create session: node "${node}" not found`);
    let lockDelayNs = 15_000_000_000n;
    if (typeof body.LockDelay === 'number') lockDelayNs = BigInt(Math.trunc(body.LockDelay));
    else if (typeof body.LockDelay === 'string') {
      try {
        lockDelayNs = parseGoDuration(body.LockDelay);
      } catch (error) {
        throw new HttpError(400, `Request decode failed: ${(error as Error).message}`);
      }
    } else if (body.LockDelay !== undefined) throw new HttpError(400, 'Request decode failed: LockDelay');
    // Consul reads small numbers as seconds (lockDelayMinThreshold = 1000).
    if (lockDelayNs < 1000n) lockDelayNs *= 1_000_000_000n;
    if (lockDelayNs > MAX_LOCK_DELAY_NS) throw new HttpError(500, `Session lock delay must be between 0 and ${formatNs(MAX_LOCK_DELAY_NS)}`);
    const behavior = body.Behavior === undefined || body.Behavior === '' ? 'release' : body.Behavior;
    if (behavior !== 'release' && behavior !== 'delete') throw new HttpError(500, `Invalid Behavior setting '${String(behavior)}'`);
    const ttl = body.TTL === undefined ? '' : String(body.TTL);
    let ttlNs = 0n;
    if (ttl !== '') {
      try {
        ttlNs = parseGoDuration(ttl);
      } catch (error) {
        throw new HttpError(500, `Session TTL '${ttl}' invalid: ${(error as Error).message}`);
      }
      if (ttlNs !== 0n && (ttlNs < this.sessionTtlMinNs || ttlNs > SESSION_TTL_MAX_NS)) {
        throw new HttpError(500, `Invalid Session TTL '${ttlNs}', must be between [${formatNs(this.sessionTtlMinNs)}=${formatNs(SESSION_TTL_MAX_NS)}]`);
      }
    }
    const idx = ++this.index;
    const session: Session = {
      id: randomUUID(),
      name: body.Name === undefined ? '' : String(body.Name),
      node,
      lockDelayNs,
      behavior,
      ttl,
      ttlNs,
      createIndex: idx,
      modifyIndex: idx,
    };
    this.sessions.set(session.id, session);
    this.armTimer(session);
    return session.id;
  }

  /** Consul invalidates a TTL session after 2 × TTL without a renewal. */
  private armTimer(session: Session): void {
    clearTimeout(session.timer);
    if (session.ttlNs === 0n) return;
    session.timer = setTimeout(() => this.invalidate(session.id), Number((session.ttlNs * 2n) / 1_000_000n));
    session.timer.unref();
  }

  private invalidate(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    clearTimeout(session.timer);
    this.sessions.delete(id);
    const until = Date.now() + Number(session.lockDelayNs / 1_000_000n);
    for (const entry of [...this.kv.values()]) {
      if (entry.session !== id) continue;
      if (session.lockDelayNs > 0n) this.lockDelays.set(entry.key, until);
      if (session.behavior === 'delete') {
        this.deleteKey(entry.key);
      } else {
        const idx = ++this.index;
        this.kv.set(entry.key, { ...entry, session: '', modifyIndex: idx });
        this.kvTableIndex = idx;
        this.changed(entry.key);
      }
    }
  }
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (!a || !b) return !a && !b;
  return a.equals(b);
}
