package main

// Hand-written thrift structs for Thrift.Mul. They are equivalent to what the
// thrift compiler would generate for
//
//	struct ThriftArgs  { 1: i32 A, 2: i32 B }
//	struct ThriftReply { 1: i32 C }
//
// rpcx's ThriftCodec serializes them with TBinaryProtocol and no message
// envelope, so the payload is just the field list followed by a stop byte.

import (
	"context"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
)

type ThriftArgs struct {
	A int32
	B int32
}

type ThriftReply struct {
	C int32
}

// i32Field describes one i32 field of a struct, for the shared read/write code.
type i32Field struct {
	name string
	id   int16
	ptr  *int32
}

func writeI32Struct(ctx context.Context, p thrift.TProtocol, name string, fields []i32Field) error {
	if err := p.WriteStructBegin(ctx, name); err != nil {
		return err
	}
	for _, f := range fields {
		if err := p.WriteFieldBegin(ctx, f.name, thrift.I32, f.id); err != nil {
			return err
		}
		if err := p.WriteI32(ctx, *f.ptr); err != nil {
			return err
		}
		if err := p.WriteFieldEnd(ctx); err != nil {
			return err
		}
	}
	if err := p.WriteFieldStop(ctx); err != nil {
		return err
	}
	return p.WriteStructEnd(ctx)
}

// readI32Struct reads fields by id; unknown ids or mismatched types are
// skipped, as generated thrift code does.
func readI32Struct(ctx context.Context, p thrift.TProtocol, fields []i32Field) error {
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			break
		}
		var target *int32
		for _, f := range fields {
			if f.id == id && typ == thrift.I32 {
				target = f.ptr
			}
		}
		if target != nil {
			v, err := p.ReadI32(ctx)
			if err != nil {
				return fmt.Errorf("read field %d: %w", id, err)
			}
			*target = v
		} else if err := p.Skip(ctx, typ); err != nil {
			return err
		}
		if err := p.ReadFieldEnd(ctx); err != nil {
			return err
		}
	}
	return p.ReadStructEnd(ctx)
}

func (a *ThriftArgs) fields() []i32Field {
	return []i32Field{{"A", 1, &a.A}, {"B", 2, &a.B}}
}

func (a *ThriftArgs) Write(ctx context.Context, p thrift.TProtocol) error {
	return writeI32Struct(ctx, p, "ThriftArgs", a.fields())
}

func (a *ThriftArgs) Read(ctx context.Context, p thrift.TProtocol) error {
	return readI32Struct(ctx, p, a.fields())
}

func (r *ThriftReply) fields() []i32Field {
	return []i32Field{{"C", 1, &r.C}}
}

func (r *ThriftReply) Write(ctx context.Context, p thrift.TProtocol) error {
	return writeI32Struct(ctx, p, "ThriftReply", r.fields())
}

func (r *ThriftReply) Read(ctx context.Context, p thrift.TProtocol) error {
	return readI32Struct(ctx, p, r.fields())
}

var (
	_ thrift.TStruct = (*ThriftArgs)(nil)
	_ thrift.TStruct = (*ThriftReply)(nil)
)
