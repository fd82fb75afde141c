// A server plugin: Go rpcx's plugin hooks, as `ServerPlugin` from @rpcx/core. A plugin implements
// only the hooks it needs; `server.use(plugin)` adds it. This one counts calls per method and
// the connections the server accepted.
import type { Connection, RequestContext, ServerPlugin } from '@rpcx/core';

export interface CallCounter extends ServerPlugin {
  /** Calls handled, by `service.method`, failed ones included. */
  readonly calls: ReadonlyMap<string, number>;
  /** Connections accepted so far. */
  readonly connections: number;
}

export function callCounter(): CallCounter {
  const calls = new Map<string, number>();
  let connections = 0;
  return {
    name: 'call-counter',
    calls,
    get connections() {
      return connections;
    },
    connAccept(_connection: Connection) {
      connections++;
      // Returning nothing keeps the connection; `false` would refuse it.
    },
    postCall(_ctx: RequestContext, serviceName: string, methodName: string) {
      const key = `${serviceName}.${methodName}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      // Returning nothing (undefined) keeps the reply as it is.
    },
  };
}
