#!/bin/sh
# Regenerates shoppb/shop.pb.go from proto/shop.proto with protoc (Debian protobuf-compiler)
# and protoc-gen-go built from go.mod's google.golang.org/protobuf. The generated file is
# committed; shoppb/shop.rpcx.pb.go is written by hand (see README.md) and not touched here.
set -eu
cd "$(dirname "$0")"
go build -o bin/protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go
protoc -I proto --plugin=protoc-gen-go=bin/protoc-gen-go --go_out=shoppb --go_opt=paths=source_relative proto/shop.proto
