// KCP (network `kcp`) against real Go rpcx built with the `kcp` tag (kcp-go v5.4.20, FEC 10+3,
// AES with the rpcx examples' key, stream mode and ACK no-delay as the examples set them),
// both directions. kcp-go sends at most 32 segments per 100 ms (its default window and
// interval), so a 1 MiB echo through a Go peer takes several seconds.
import { kcpTransport } from '@rpcx/transport-kcp';
import { transportInterop } from './support/transport-matrix.js';

transportInterop({ network: 'kcp', transport: () => kcpTransport(), bigPayloadTimeoutMs: 50_000 });
