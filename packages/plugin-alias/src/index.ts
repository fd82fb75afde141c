/**
 * Aliases for services and methods (Go rpcx's `AliasPlugin`): a request for
 * `aliasPath.aliasMethod` is served by `servicePath.serviceMethod`, and the reply carries the
 * name the client asked for.
 *
 * @packageDocumentation
 * @module @rpcx/plugin-alias
 */
import { ConfigError, type RpcMessage, type ServerPlugin } from '@rpcx/core';

/** Go's marker in the request metadata of a request whose name was an alias. */
export const ALIAS_APPLIED_KEY = '__aliasAppliedKey';

interface Name {
  readonly servicePath: string;
  readonly serviceMethod: string;
}

/** The alias plugin; add aliases with `alias` before or while serving. */
export interface AliasPlugin extends ServerPlugin {
  /**
   * Serve `aliasPath.aliasMethod` with `servicePath.serviceMethod` (Go's
   * `Alias(aliasServicePath, aliasServiceMethod, servicePath, serviceMethod)`). Returns the
   * plugin, so calls chain.
   */
  alias(aliasPath: string, aliasMethod: string, servicePath: string, serviceMethod: string): AliasPlugin;
}

/**
 * A server plugin that renames requests as they are read (`postReadRequest`, where Go's
 * does it), so auth, interceptors and the method see the real name, with
 * `__aliasAppliedKey: "true"` in the request metadata as Go sets it. The response gets the
 * alias back (`preWriteResponse`). rpcx frames only: the HTTP gateway and JSON-RPC name the
 * method in the request and are not renamed.
 *
 * Differences from Go v1.9.4: Go's `PreWriteResponse` has a signature the server never
 * calls, so a Go reply names the real method; here the reply names the alias that was asked
 * for, even when two aliases lead to one method. Go clients match replies by sequence number
 * and accept both.
 *
 * ```ts
 * await server.use(aliasPlugin().alias('Calc', 'Times', 'Arith', 'Mul'));
 * ```
 */
export function aliasPlugin(): AliasPlugin {
  const aliases = new Map<string, Name>();
  // The name each renamed request came with, to put back on its response.
  const asked = new WeakMap<RpcMessage, Name>();
  const plugin: AliasPlugin = {
    name: 'alias',
    alias(aliasPath, aliasMethod, servicePath, serviceMethod) {
      for (const part of [aliasPath, aliasMethod, servicePath, serviceMethod]) {
        if (typeof part !== 'string' || part === '') throw new ConfigError('alias: every name must be a non-empty string');
      }
      aliases.set(`${aliasPath}.${aliasMethod}`, { servicePath, serviceMethod });
      return plugin;
    },
    postReadRequest(_connection, message) {
      if (!message || message.heartbeat) return;
      const target = aliases.get(`${message.servicePath}.${message.serviceMethod}`);
      if (!target) return;
      asked.set(message, { servicePath: message.servicePath, serviceMethod: message.serviceMethod });
      message.servicePath = target.servicePath;
      message.serviceMethod = target.serviceMethod;
      message.metadata[ALIAS_APPLIED_KEY] = 'true';
    },
    preWriteResponse(_ctx, request, response) {
      const name = asked.get(request);
      if (!name || !response) return;
      response.servicePath = name.servicePath;
      response.serviceMethod = name.serviceMethod;
    },
  };
  return plugin;
}
