#!/usr/bin/env bash
# Builds the Consul agent the registry-consul tests run: v1.14.11, the last MPL-2.0 release that
# builds from open-source modules only (1.15 and 1.16 import consul/envoyextensions and
# consul/troubleshoot, which are not open-source-licensed; 1.16.4 and later are BUSL). Never
# raise the version. The unmodified source comes from the Go module proxy; the three replace
# lines that point into Consul's own repository are dropped so its api, sdk and proto-public
# modules come from the proxy too.
#
# The binary is cached at .cache/consul-<version>/consul: a second run prints its path at once.
# Cold: about 5 minutes and 2 GB of memory on a 2-core machine; seconds with a warm Go cache.
# Prints the binary's path on stdout; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

version=v1.14.11
dir="$PWD/.cache/consul-$version"
bin="$dir/consul"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

echo "building Consul $version into $dir (about 5 minutes the first time)" >&2
export GOFLAGS=-mod=mod
src_dir="$(go mod download -json "github.com/hashicorp/consul@$version" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
[ -n "$src_dir" ] || { echo "go mod download github.com/hashicorp/consul@$version failed" >&2; exit 1; }

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$src_dir" "$work/src"
chmod -R u+w "$work/src"
(
  cd "$work/src"
  go mod edit -dropreplace=github.com/hashicorp/consul/api -dropreplace=github.com/hashicorp/consul/sdk \
    -dropreplace=github.com/hashicorp/consul/proto-public
  go build -trimpath -o "$work/consul" .
)
mkdir -p "$dir"
mv "$work/consul" "$bin"
echo "$bin"
