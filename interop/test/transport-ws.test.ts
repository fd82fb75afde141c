// WebSocket (network `ws`) against real Go rpcx's `Serve("ws", addr)`, both directions.
import { wsTransport } from '@rpcx/transport-ws';
import { transportInterop } from './support/transport-matrix.js';

transportInterop({ network: 'ws', transport: () => wsTransport() });
