/**
 * @packageDocumentation
 * Test support for registry packages: the registry compliance suite, the helpers its tests
 * and the backend-specific tests share, and a runner for `node:test` files in a child
 * process (for tests that must not run in the test runner's own process, like mDNS in a
 * private network namespace). Node only; no test framework is imported.
 *
 * @module @rpcx/registry-kit/testing
 */
export {
  registryCompliance,
  REGISTRY_COMPLIANCE_TESTS,
  type RegistryComplianceSetup,
  type CompliancePlugin,
  type CompliancePluginInit,
  type ComplianceDiscoveryInit,
  type ComplianceRawWrite,
} from './compliance.js';
export { metadataUpdateCompliance, METADATA_UPDATE_TESTS, type MetadataUpdateSetup } from './metadata-update.js';
export { waitFor, waitForValue, nextList, keys, recordingLogger, freePort, startChild, killChild, sleep, ManagedProcess, TestServer, findOnPath } from './helpers.js';
export { runNodeTestFile, type ChildTestResult, type NodeTestRun, type RunNodeTestFileOptions } from './node-runner.js';
export { nodeTestRunner, type TestRunner } from '@rpcx/core/testing';
