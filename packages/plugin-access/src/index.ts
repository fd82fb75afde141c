/**
 * Allow and deny lists for an `@rpcx` server: IP addresses and CIDR ranges, IPv4 and IPv6,
 * checked when a connection is accepted, before its first byte is read, so they hold for
 * every protocol on the port (rpcx, the HTTP gateway, JSON-RPC) and every transport. Go
 * rpcx's `WhitelistPlugin` and `BlacklistPlugin` in one plugin.
 *
 * @packageDocumentation
 * @module @rpcx/plugin-access
 */
import { BlockList, isIP } from 'node:net';
import { AccessDeniedError, ConfigError, splitHostPort, type Connection, type Logger, type ServerPlugin } from '@rpcx/core';

export interface AccessControlOptions {
  /**
   * When given, only clients whose IP is in this list may connect (Go's `WhitelistPlugin`):
   * addresses (`10.0.0.7`, `::1`) and CIDRs (`10.0.0.0/8`, `fd00::/8`). An address that is
   * not an IP (a unix socket) is refused. @default none: everyone not denied may connect
   */
  allow?: readonly string[];
  /**
   * Clients whose IP is in this list are refused (Go's `BlacklistPlugin`), also when `allow`
   * lists them. An address that is not an IP is let through. @default none
   */
  deny?: readonly string[];
  /** Where refusals are logged (at `debug`). @default none */
  logger?: Pick<Logger, 'debug'>;
}

/** An allow / deny list as a server plugin; `update` replaces the lists while serving. */
export interface AccessControl extends ServerPlugin {
  /** Replace the lists (checked for new connections; open ones stay). */
  update(options: Pick<AccessControlOptions, 'allow' | 'deny'>): void;
  /** Whether a client at `ip` may connect under the current lists. */
  allows(ip: string): boolean;
  /** Connections refused so far. */
  readonly refused: number;
}

/** A BlockList of the entries; a bad entry is a ConfigError naming it. */
function compile(entries: readonly string[], what: string): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const ip = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(ip);
    if (family === 0) throw new ConfigError(`access ${what} list: ${JSON.stringify(entry)} is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (slash < 0) {
      list.addAddress(ip, type);
      continue;
    }
    const bits = entry.slice(slash + 1);
    const prefix = Number(bits);
    if (!/^\d+$/.test(bits) || prefix > (family === 6 ? 128 : 32)) {
      throw new ConfigError(`access ${what} list: ${JSON.stringify(entry)} has a bad prefix length`);
    }
    list.addSubnet(ip, prefix, type);
  }
  return list;
}

function matches(list: BlockList, ip: string): boolean {
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.7, a dual-stack socket's view of an IPv4
  // client) matches IPv4 entries too: BlockList checks both forms.
  return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Allow and deny lists, checked on accept: a refused connection is closed before anything is
 * read from it or written to it (`AccessDeniedError` is its close reason).
 *
 * ```ts
 * await server.use(accessControl({ allow: ['127.0.0.1', '10.0.0.0/8', '::1'], deny: ['10.6.6.0/24'] }));
 * ```
 */
export function accessControl(options: AccessControlOptions): AccessControl {
  let allow: BlockList | undefined;
  let deny: BlockList | undefined;
  let refused = 0;
  const logger = options.logger;

  const update = (lists: Pick<AccessControlOptions, 'allow' | 'deny'>) => {
    const nextAllow = lists.allow ? compile(lists.allow, 'allow') : undefined;
    const nextDeny = lists.deny ? compile(lists.deny, 'deny') : undefined;
    allow = nextAllow;
    deny = nextDeny;
  };

  const allows = (ip: string): boolean => {
    if (isIP(ip) === 0) return allow === undefined;
    if (deny && matches(deny, ip)) return false;
    return allow === undefined || matches(allow, ip);
  };

  update(options);
  return {
    name: 'access-control',
    update,
    allows,
    get refused() {
      return refused;
    },
    connAccept(connection: Connection) {
      let ip: string;
      try {
        ip = splitHostPort(connection.remoteAddress).host;
      } catch {
        ip = connection.remoteAddress;
      }
      if (allows(ip)) return true;
      refused++;
      const error = new AccessDeniedError(connection.remoteAddress);
      logger?.debug(`rpcx: ${error.message}`);
      connection.destroy(error);
      return false;
    },
  };
}
