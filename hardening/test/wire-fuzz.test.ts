// A bounded over-the-wire fuzz in every `pnpm test`: thousands of mutated request frames over
// many connections to a real server, with a fixed seed and a random one (printed in the test
// name and in any failure; `pnpm fuzz --seed N` replays it, `pnpm fuzz` runs a longer fuzz).
import { describeFailure, runWireFuzz } from '../src/fuzz.js';
import { startServer, type Fixture } from '../src/fixture.js';

const FIXED_SEED = 0x5eed;
const RANDOM_SEED = (Math.random() * 0x1_0000_0000) >>> 0;
/** What the well-behaved client may wait for one answer while the fuzz runs (the machine is shared). */
const SLOWEST_CALL_MS = 3000;

describe('wire fuzz against a real server', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await startServer({ logger: { debug() {}, info() {}, warn() {}, error() {} } });
  });

  afterAll(async () => {
    await fixture.server.close();
  });

  test.each([FIXED_SEED, RANDOM_SEED])('seed %d: 20,000 mutated frames over 1,000 connections', async (seed) => {
    const report = await runWireFuzz(fixture.port, fixture.key, {
      seed,
      connections: 1000,
      framesPerConnection: 20,
      concurrency: 24,
      closeWithinMs: 10_000,
    });
    expect(describeFailure(report)).toBeUndefined();
    expect(report.frames).toBe(20_000);
    // The fuzz reached past the framing: the server decoded and answered mutated requests.
    expect(report.replies).toBeGreaterThan(1000);
    expect(report.inStep).toBeGreaterThan(0);
    expect(report.wellBehaved.calls).toBeGreaterThan(0);
    expect(report.wellBehaved.slowestMs).toBeLessThan(SLOWEST_CALL_MS);
    // The server is still there for everyone: no connection of the fuzz is left open.
    expect(fixture.server.activeConnections().length).toBeLessThanOrEqual(1);
  }, 120_000);
});
