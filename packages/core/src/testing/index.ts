/**
 * @packageDocumentation
 * Test support for `@rpcx` codecs and the packages built on `@rpcx/core`: the codec compliance
 * suite (`codecCompliance`), the golden-fixture convention (`goldenFixtures`, `fromHex`,
 * `hex`), and the runner the compliance suites of the kits share (`TestRunner`). Node only
 * (`node:assert`, `node:fs`); no test framework is imported.
 *
 * @module @rpcx/core/testing
 */
export {
  codecCompliance,
  goldenFixtures,
  loadHexFixtures,
  hex,
  fromHex,
  embedded,
  type CodecComplianceSpec,
  type CodecComplianceCase,
  type Golden,
  type GoldenFixturesOptions,
} from './codec.js';
export { globalRunner, nodeTestRunner, thrownBy, type TestRunner } from './runner.js';
