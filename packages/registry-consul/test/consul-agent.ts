/**
 * A throwaway Consul agent for tests: one non-dev server (`-server -bootstrap-expect=1`) on
 * loopback, free ports, temp data dir, `session_ttl_min = "1s"` so the tests can use short
 * sessions. The binary is Consul v1.14.11 built by `scripts/build-consul.sh` (which
 * `scripts/setup.sh` runs) into `.cache/consul-v1.14.11/consul`; `RPCX_CONSUL_BIN` overrides.
 * Ready (a KV write accepted, so a leader is elected) in about 2 s.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManagedProcess, TestServer, findOnPath, freePort } from '@rpcx/registry-kit/testing';

const BUILT = fileURLToPath(new URL('../../../.cache/consul-v1.14.11/consul', import.meta.url));

function consulBinary(): string {
  const bin = process.env.RPCX_CONSUL_BIN ?? BUILT;
  if (!existsSync(bin)) throw new Error(`no Consul agent at ${bin}: build it with \`bash scripts/build-consul.sh\` (scripts/setup.sh does)`);
  return bin;
}

export class ConsulAgent extends TestServer {
  protected readonly process: ManagedProcess;

  private constructor(
    readonly httpPort: number,
    serfPort: number,
    serverPort: number,
  ) {
    super('consul');
    this.process = new ManagedProcess(
      'consul',
      consulBinary(),
      [
        'agent',
        '-server',
        '-bootstrap-expect=1',
        `-data-dir=${this.dataDir}`,
        '-client=127.0.0.1',
        '-bind=127.0.0.1',
        '-node=rpcx-test',
        '-log-level=warn',
        '-hcl',
        'session_ttl_min = "1s"',
        '-hcl',
        'performance { raft_multiplier = 1 }',
        '-hcl',
        'disable_update_check = true',
        // Only what the tests use listens: HTTP, and the server and LAN gossip ports a server needs.
        '-hcl',
        `ports { http = ${httpPort}, server = ${serverPort}, serf_lan = ${serfPort}, serf_wan = -1, dns = -1, grpc = -1, grpc_tls = -1 }`,
      ],
      join(this.dir, 'consul.log'),
    );
  }

  /** `127.0.0.1:<port>`, the form Go rpcx and the registry package take. */
  get address(): string {
    return `127.0.0.1:${this.httpPort}`;
  }

  /**
   * A new agent on free ports. A port found free can be taken by another process before the
   * agent binds it (other tests run at the same time): then it is tried again on new ports.
   */
  static async start(): Promise<ConsulAgent> {
    for (let attempt = 1; ; attempt++) {
      const agent = new ConsulAgent(await freePort(), await freePort(), await freePort());
      try {
        await agent.start();
        return agent;
      } catch (error) {
        await agent.destroy();
        if (attempt === 3 || !/address already in use/.test(String(error))) throw error;
      }
    }
  }

  /** Start (or start again: same ports and data dir) and wait until a KV write succeeds. */
  async start(): Promise<void> {
    await this.process.start(async () => {
      const res = await fetch(`http://${this.address}/v1/kv/_rpcx_probe`, { method: 'PUT', body: 'x', signal: AbortSignal.timeout(1000) });
      return res.ok && (await res.text()).trim() === 'true';
    }, 30_000);
  }
}
