import { isIP } from 'node:net';
import { hostname } from 'node:os';
import Bonjour from 'bonjour-service';
import { RegistryError, silentLogger, type Logger } from '@rpcx/core';

/**
 * Go's service name. grandcat/zeroconf joins `_rpcxservices` and the domain with no
 * protocol label, so the PTR name is `_rpcxservices.local` — not the `_rpcxservices._tcp`
 * bonjour-service would build from a type.
 */
export const SERVICE_TYPE = '_rpcxservices';
export const DOMAIN = 'local';
export const SERVICE_NAME = `${SERVICE_TYPE}.${DOMAIN}`;

/** Options passed to `new Bonjour(...)` (multicast-dns: `interface`, `bind`, `port`, `ttl`, `loopback`…). */
export type MdnsOptions = ConstructorParameters<typeof Bonjour>[0];

/** A Bonjour instance whose send errors are logged instead of thrown (its default). */
export function createBonjour(options: MdnsOptions | undefined, logger: Logger = silentLogger): Bonjour {
  return new Bonjour(options ?? {}, (error: Error) => logger.warn('mdns: cannot send:', error?.message ?? error));
}

export interface Advertisement {
  /** `<instance>._rpcxservices.local`. */
  readonly fqdn: string;
  /** Replace the TXT strings; answered from now on (no goodbye, no re-probe). */
  setTxt(strings: Buffer[]): void;
  /** Send the goodbye (TTL 0) and stop answering. */
  stop(): Promise<void>;
}

/**
 * Announce `<instance>._rpcxservices.local` on `port` with raw TXT strings, as Go's
 * `zeroconf.Register(instance, "_rpcxservices", "local.", port, txt, nil)` does. Resolves
 * once the first announcement is sent.
 *
 * bonjour-service is used as it is, with two adjustments to the service object it returns
 * (its public fields and method): the type and fqdn are set to Go's names, and its TXT
 * record carries our strings as they are (its own TXT encoder only writes `key=value`).
 * The TXT record's data is one array we keep: replacing its contents changes every later
 * answer at once, which is how Go's `SetText` behaves. The name is probed first (up to about
 * 1 s); if another host answers for it, bonjour-service logs "Service name is already in use
 * on the network" and the announcement fails.
 */
export function advertise(
  bonjour: Bonjour,
  init: {
    instance: string;
    port: number;
    host?: string;
    txt: Buffer[];
    disableIPv6?: boolean;
    timeoutMs?: number;
    /**
     * Addresses for the host's A/AAAA records when the machine has none but loopback ones,
     * which bonjour-service leaves out. Go's discovery (zeroconf) drops an instance without
     * any address record.
     */
    fallbackAddresses?: readonly string[];
  },
): Promise<Advertisement> {
  const txt = [...init.txt];
  const service = bonjour.publish({
    name: init.instance,
    type: SERVICE_TYPE.slice(1),
    port: init.port,
    host: init.host ?? `${hostname()}.${DOMAIN}`,
    // Probing (RFC 6762 §8.1; zeroconf skips it) also defers the announcement to a later
    // tick, which is what lets the name and TXT be set below before anything is sent.
    probe: true,
    disableIPv6: init.disableIPv6,
  });
  // Synchronously after publish(): it reads these only when it probes and announces.
  service.type = SERVICE_TYPE;
  service.fqdn = `${service.name}.${SERVICE_NAME}`;
  const records = service.records.bind(service);
  service.records = () => {
    const out = records().map((record) => (record.type === 'TXT' ? { ...record, data: txt } : record));
    if (!out.some((record) => record.type === 'A' || record.type === 'AAAA')) {
      for (const ip of init.fallbackAddresses ?? []) {
        if (isIP(ip) === 4) out.push({ name: service.host, type: 'A', ttl: 120, data: ip });
        else if (isIP(ip) === 6 && !init.disableIPv6) out.push({ name: service.host, type: 'AAAA', ttl: 120, data: ip });
      }
    }
    return out;
  };
  const advertisement: Advertisement = {
    fqdn: service.fqdn,
    setTxt(strings) {
      txt.splice(0, txt.length, ...strings);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        service.stop?.(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new RegistryError(`mdns: ${service.fqdn} was not announced within ${init.timeoutMs ?? 5000} ms`)), init.timeoutMs ?? 5000);
    service.once('up', () => {
      clearTimeout(timer);
      resolve(advertisement);
    });
  });
}
