/**
 * @packageDocumentation
 * The transport compliance suite (`transportCompliance`) and the helpers its tests and a
 * transport's own tests share (`Recorder`, `waitUntil`). Node only; no test framework is
 * imported: the suite takes `describe` and `test` from the globals (jest, vitest) or from
 * `runner` (`nodeTestRunner(await import('node:test'))`).
 *
 * @module @rpcx/transport-kit/testing
 */
export { transportCompliance, type TransportComplianceSetup } from './compliance.js';
export { nodeTestRunner, type TestRunner } from '@rpcx/core/testing';
export { Recorder, sleep, waitUntil } from './recorder.js';
export {
  hasIPv6Loopback,
  refusedAddress,
  refusedUdpAddress,
  selfSigned,
  silentServer,
  silentUdpServer,
  tempDir,
} from './fixtures.js';
export { servePage, startHeadlessChromium, type HeadlessChromium, type ServedPage } from './chromium.js';
