// QUIC (network `quic`) against real Go rpcx built with `-tags quic` (smallnest/quick over
// quic-go), both directions. Go's quic server needs a TLS config: a self-signed certificate
// made here goes to it as --tls-cert / --tls-key and to our server as listen options. Go's
// client does not verify (InsecureSkipVerify); ours verifies against that certificate.
import { quicTransport } from '@rpcx/transport-quic';
import { selfSigned } from '../../packages/transport-quic/test/helpers.js';
import { transportInterop } from './support/transport-matrix.js';

const { key, cert, keyPath, certPath } = selfSigned('rpcx-interop-quic-');

transportInterop({
  network: 'quic',
  transport: () => quicTransport(),
  listenOptions: { tls: { key, cert } },
  goServeArgs: ['--tls-cert', certPath, '--tls-key', keyPath],
  // Go's server certificate, checked against 127.0.0.1 (its IP entry).
  clientTls: { ca: cert },
});
