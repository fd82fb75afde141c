// HTTP CONNECT (network `http`) against real Go rpcx's `Serve("http", addr)`, both directions.
import { httpTransport } from '@rpcx/transport-http';
import { transportInterop } from './support/transport-matrix.js';

transportInterop({ network: 'http', transport: () => httpTransport() });
