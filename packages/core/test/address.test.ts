import { ConfigError, joinHostPort, parseServerKey, splitHostPort } from '@rpcx/core';

describe('network@address keys', () => {
  test('parse with and without a network', () => {
    expect(parseServerKey('tcp@127.0.0.1:8972')).toEqual({ network: 'tcp', address: '127.0.0.1:8972' });
    expect(parseServerKey('unix@/tmp/rpcx.sock')).toEqual({ network: 'unix', address: '/tmp/rpcx.sock' });
    expect(parseServerKey('quic@[::1]:9000')).toEqual({ network: 'quic', address: '[::1]:9000' });
    expect(parseServerKey('127.0.0.1:1')).toEqual({ network: 'tcp', address: '127.0.0.1:1' });
    expect(() => parseServerKey('@x')).toThrow(ConfigError);
  });

  test('host and port, IPv6 bracketed', () => {
    expect(splitHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(splitHostPort('localhost:8972')).toEqual({ host: 'localhost', port: 8972 });
    expect(() => splitHostPort('::1:80')).toThrow(/too many colons/);
    expect(() => splitHostPort('host')).toThrow(/missing port/);
    expect(() => splitHostPort('host:70000')).toThrow(/invalid port/);
    expect(joinHostPort('::1', 80)).toBe('[::1]:80');
    expect(joinHostPort('127.0.0.1', 80)).toBe('127.0.0.1:80');
  });
});
