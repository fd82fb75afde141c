import { ConfigError, GoErrorText, encodeQuery, type MethodSchema } from '@rpcx/core';
import type { RequestContext } from '@rpcx/core';
import type { HandlerContext } from './context.js';

/** A service method: receives the decoded args and the call context, returns the reply. */
export type ServiceMethod<A = any, R = any> = (args: A, ctx: RequestContext) => R | Promise<R>;

/** A reflection-free handler (Go `AddHandler`): reads and writes through the context. */
export type Handler = (ctx: HandlerContext) => unknown;

export interface MethodEntry {
  readonly name: string;
  readonly fn: ServiceMethod;
  readonly schema: MethodSchema | undefined;
}

export interface RegisterOptions {
  /** The service path clients call. Default: the class name of the object. */
  name?: string;
  /**
   * Handed to register plugins, which publish it in the registry as a URL query
   * (`weight=10&group=g1`); an object is encoded like Go's `url.Values.Encode`. Not sent on the wire.
   */
  metadata?: string | Record<string, string>;
  /** Register only these methods (Go `RegisterWithMethods`). */
  methods?: readonly string[];
  /** Per-method schemas for codecs that need one (protobuf, thrift). */
  schemas?: Record<string, MethodSchema>;
}

export interface RegisterFunctionOptions {
  /** The method name. Default: the function's name (Go: its short runtime name). */
  name?: string;
  metadata?: string | Record<string, string>;
  schema?: MethodSchema;
}

export function metadataString(metadata: RegisterOptions['metadata']): string {
  if (metadata === undefined) return '';
  return typeof metadata === 'string' ? metadata : encodeQuery(metadata);
}

/** Methods callable on an object: own and inherited functions, minus the constructor and `_private` ones. */
export function serviceMethodNames(service: object): string[] {
  const names = new Set<string>();
  for (let o: object | null = service; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === 'constructor' || key.startsWith('_')) continue;
      const desc = Object.getOwnPropertyDescriptor(o, key);
      if (desc && typeof desc.value === 'function') names.add(key);
    }
  }
  return [...names];
}

/** Services by path, each a table of methods (registered functions live in the same table, as in Go). */
export class ServiceTable {
  private readonly services = new Map<string, Map<string, MethodEntry>>();
  private readonly handlers = new Map<string, Handler>();

  addService(service: object, options: RegisterOptions): { name: string; methods: string[] } {
    const name = options.name ?? (service as { constructor?: { name?: string } }).constructor?.name;
    if (!name || name === 'Object') throw new ConfigError('rpcx.Register: no service name for type; pass { name }');
    const available = serviceMethodNames(service);
    let chosen = available;
    if (options.methods) {
      if (options.methods.length === 0) throw new ConfigError('rpcx.Register: empty methods whitelist; use Register to register all methods');
      for (const m of options.methods) {
        if (!available.includes(m)) throw new ConfigError(`rpcx.Register: method "${m}" not found on ${name}`);
      }
      chosen = [...options.methods];
    }
    if (chosen.length === 0) throw new ConfigError(`rpcx.Register: type ${name} has no exported methods of suitable type`);
    const table = this.table(name);
    for (const m of chosen) {
      const fn = (service as Record<string, ServiceMethod>)[m];
      table.set(m, { name: m, fn: fn.bind(service), schema: options.schemas?.[m] });
    }
    return { name, methods: chosen };
  }

  addFunction(servicePath: string, fn: ServiceMethod, options: RegisterFunctionOptions): string {
    if (typeof fn !== 'function') throw new ConfigError('function must be func or bound method');
    const name = options.name ?? fn.name.replace(/^bound /, '');
    if (!name) throw new ConfigError('rpcx.registerFunction: no func name for type; pass { name }');
    this.table(servicePath).set(name, { name, fn, schema: options.schema });
    return name;
  }

  addHandler(servicePath: string, serviceMethod: string, handler: Handler): void {
    this.handlers.set(`${servicePath}.${serviceMethod}`, handler);
  }

  handler(servicePath: string, serviceMethod: string): Handler | undefined {
    return this.handlers.size === 0 ? undefined : this.handlers.get(`${servicePath}.${serviceMethod}`);
  }

  /** The method, or the Go error text saying what is missing. */
  lookup(servicePath: string, serviceMethod: string): MethodEntry | string {
    const table = this.services.get(servicePath);
    if (!table) return GoErrorText.serviceNotFound(servicePath);
    return table.get(serviceMethod) ?? GoErrorText.methodNotFound(serviceMethod);
  }

  names(): string[] {
    return [...this.services.keys()];
  }

  methods(servicePath: string): string[] {
    return [...(this.services.get(servicePath)?.keys() ?? [])];
  }

  private table(name: string): Map<string, MethodEntry> {
    let t = this.services.get(name);
    if (!t) {
      t = new Map();
      this.services.set(name, t);
    }
    return t;
  }
}
