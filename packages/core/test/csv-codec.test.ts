// The README's third-party codec under the codec compliance suite, as its author would run it.
import { codecCompliance, fromHex } from '@rpcx/core/testing';
import { csvCodec } from './fixtures/csv-codec.js';

codecCompliance(() => csvCodec(), {
  serializeType: 7,
  name: 'csv',
  cases: [
    { name: 'one row', value: [[1, 2, 3]] },
    { name: 'two rows', value: [[1.5], [-2]] },
  ],
  garbage: [{ name: 'a word', bytes: fromHex('61 62') }],
  unencodable: [{ name: 'a string', value: 'x' }],
});
