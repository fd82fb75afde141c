import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalHeaderKey } from './go-text.js';

/**
 * CORS for the HTTP gateway and JSON-RPC, with the options and behaviour of the Go library
 * Go rpcx uses (`rs/cors` v1.11, `Server.SetCORS`).
 */
export interface CorsOptions {
  /**
   * Origins allowed to call; `*` allows all, and one `*` inside an origin matches any run of
   * characters (`http://*.example.com`). Compared case-insensitively. @default ['*']
   */
  allowedOrigins?: string[];
  /** Decide per request instead of `allowedOrigins`. */
  allowOriginFunc?: (origin: string, request: IncomingMessage) => boolean;
  /** Methods allowed for cross-origin calls. @default ['GET', 'POST', 'HEAD'] */
  allowedMethods?: string[];
  /** Non-simple request headers allowed; `*` allows all. @default ['Accept', 'Content-Type', 'X-Requested-With'] */
  allowedHeaders?: string[];
  /** Response headers a browser script may read (`Access-Control-Expose-Headers`). */
  exposedHeaders?: string[];
  /** Seconds a preflight answer may be cached; 0 sends no header, a negative value sends 0. @default 0 */
  maxAge?: number;
  /** Send `Access-Control-Allow-Credentials: true`. @default false */
  allowCredentials?: boolean;
  /** Answer `Access-Control-Request-Private-Network: true` preflights. @default false */
  allowPrivateNetwork?: boolean;
  /** Pass preflight requests on to the gateway / JSON-RPC instead of answering them. @default false */
  optionsPassthrough?: boolean;
  /** Status of an answered preflight. @default 204 */
  optionsSuccessStatus?: number;
}

/** Go rpcx's `AllowAllCORSOptions()`: any origin and header, the usual methods, no credentials. */
export function allowAllCors(): CorsOptions {
  return {
    allowedOrigins: ['*'],
    allowedMethods: ['HEAD', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['*'],
    allowCredentials: false,
  };
}

const first = (req: IncomingMessage, name: string): string => req.headersDistinct[name]?.[0] ?? '';

/** CORS decisions for one set of options; `apply` runs before the request is routed. */
export class Cors {
  private readonly allOrigins: boolean;
  private readonly origins: string[] = [];
  private readonly wildcards: [prefix: string, suffix: string][] = [];
  private readonly allHeaders: boolean;
  private readonly headers: Map<string, number>;
  private readonly methods: string[];
  private readonly exposed: string | undefined;
  private readonly maxAge: string | undefined;
  private readonly preflightVary: string;

  constructor(private readonly options: CorsOptions) {
    const origins = options.allowedOrigins ?? [];
    this.allOrigins = !options.allowOriginFunc && (origins.length === 0 || origins.some((o) => o === '*'));
    if (!this.allOrigins) {
      for (const o of origins.map((x) => x.toLowerCase())) {
        const star = o.indexOf('*');
        if (star >= 0) this.wildcards.push([o.slice(0, star), o.slice(star + 1)]);
        else this.origins.push(o);
      }
    }
    const headers = options.allowedHeaders?.length ? options.allowedHeaders : ['accept', 'content-type', 'x-requested-with'];
    this.allHeaders = headers.includes('*');
    const sorted = [...new Set(this.allHeaders ? [] : headers.map((h) => h.toLowerCase()))].sort();
    this.headers = new Map(sorted.map((h, i) => [h, i]));
    this.methods = options.allowedMethods?.length ? options.allowedMethods : ['GET', 'POST', 'HEAD'];
    if (options.exposedHeaders?.length) this.exposed = options.exposedHeaders.map(canonicalHeaderKey).join(', ');
    const maxAge = options.maxAge ?? 0;
    if (maxAge > 0) this.maxAge = String(Math.trunc(maxAge));
    else if (maxAge < 0) this.maxAge = '0';
    this.preflightVary = options.allowPrivateNetwork
      ? 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network'
      : 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';
  }

  /**
   * Add the CORS headers to `res`. Returns true when the request was a preflight and has
   * been answered (unless `optionsPassthrough`), so nothing else should handle it.
   */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method === 'OPTIONS' && first(req, 'access-control-request-method') !== '') {
      this.preflight(req, res);
      if (this.options.optionsPassthrough) return false;
      res.statusCode = this.options.optionsSuccessStatus ?? 204;
      res.end();
      return true;
    }
    this.actual(req, res);
    return false;
  }

  private originAllowed(req: IncomingMessage, origin: string): boolean {
    if (this.options.allowOriginFunc) return this.options.allowOriginFunc(origin, req);
    if (this.allOrigins) return true;
    const o = origin.toLowerCase();
    return this.origins.includes(o) || this.wildcards.some(([p, s]) => o.length >= p.length + s.length && o.startsWith(p) && o.endsWith(s));
  }

  private methodAllowed(method: string): boolean {
    if (this.methods.length === 0) return false;
    return method === 'OPTIONS' || this.methods.includes(method);
  }

  /**
   * rs/cors's check of `Access-Control-Request-Headers`: the names must be allowed, sorted
   * and unique (as browsers send them), with at most one space around each and a few empty
   * elements tolerated.
   */
  private headersAllowed(values: string[]): boolean {
    let last = -1;
    let empty = 0;
    for (const value of values) {
      for (const raw of value.split(',')) {
        const name = raw.replace(/^[ \t]/, '').replace(/[ \t]$/, '');
        if (/^[ \t]|[ \t]$/.test(name)) return false;
        if (name === '') {
          if (++empty > 16) return false;
          continue;
        }
        const pos = this.headers.get(name);
        if (pos === undefined || pos <= last) return false;
        last = pos;
      }
    }
    return true;
  }

  private addVary(res: ServerResponse, value: string): void {
    const vary = res.getHeader('vary');
    if (vary === undefined) res.setHeader('Vary', value);
    else res.setHeader('Vary', [...(Array.isArray(vary) ? vary : [String(vary)]), value]);
  }

  private preflight(req: IncomingMessage, res: ServerResponse): void {
    this.addVary(res, this.preflightVary);
    const origin = first(req, 'origin');
    if (origin === '' || !this.originAllowed(req, origin)) return;
    const method = first(req, 'access-control-request-method');
    if (!this.methodAllowed(method)) return;
    const reqHeaders = req.headersDistinct['access-control-request-headers'];
    if (reqHeaders && !this.allHeaders && !this.headersAllowed(reqHeaders)) return;
    res.setHeader('Access-Control-Allow-Origin', this.allOrigins ? '*' : (req.headersDistinct.origin ?? []));
    res.setHeader('Access-Control-Allow-Methods', req.headersDistinct['access-control-request-method'] ?? []);
    if (reqHeaders && reqHeaders[0].length > 0) res.setHeader('Access-Control-Allow-Headers', reqHeaders);
    if (this.options.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (this.options.allowPrivateNetwork && first(req, 'access-control-request-private-network') === 'true') {
      res.setHeader('Access-Control-Allow-Private-Network', 'true');
    }
    if (this.maxAge !== undefined) res.setHeader('Access-Control-Max-Age', this.maxAge);
  }

  private actual(req: IncomingMessage, res: ServerResponse): void {
    this.addVary(res, 'Origin');
    const origin = first(req, 'origin');
    if (origin === '' || !this.originAllowed(req, origin)) return;
    if (!this.methodAllowed(req.method ?? '')) return;
    res.setHeader('Access-Control-Allow-Origin', this.allOrigins ? '*' : (req.headersDistinct.origin ?? []));
    if (this.exposed !== undefined) res.setHeader('Access-Control-Expose-Headers', this.exposed);
    if (this.options.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
  }
}
