#!/bin/sh
# Regenerates pb/*.pb.go from proto/*.proto (the generated files are committed,
# so this is only needed after editing a .proto).
# Needs: protoc (Debian package protobuf-compiler) and protoc-gen-go matching
# go.mod's google.golang.org/protobuf:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
set -eu
cd "$(dirname "$0")"
PATH="$PATH:$(go env GOPATH)/bin" protoc -I proto --go_out=pb --go_opt=paths=source_relative \
  proto/arith.proto proto/bench.proto
