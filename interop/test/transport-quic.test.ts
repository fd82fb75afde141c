// QUIC (network `quic`) against real Go rpcx built with `-tags quic` (smallnest/quick over
// quic-go), both directions. Go's quic server needs a TLS config: a self-signed certificate
// made here goes to it as --tls-cert / --tls-key and to our server as its transport's
// serverTls. Go's client does not verify (InsecureSkipVerify); ours verifies against that
// certificate (clientTls).
import { selfSigned } from '@rpcx/transport-kit/testing';
import { quicTransport } from '@rpcx/transport-quic';
import { transportInterop } from './support/transport-matrix.js';

const { key, cert, keyPath, certPath } = selfSigned('rpcx-interop-quic-');

transportInterop({
  network: 'quic',
  // Go's server certificate is checked against 127.0.0.1 (its IP entry).
  transport: () => quicTransport({ serverTls: { key, cert }, clientTls: { ca: cert } }),
  goServeArgs: ['--tls-cert', certPath, '--tls-key', keyPath],
});
