package main

import "context"

// Args and Reply are the Arith messages of interop/SERVICES.md: Go int
// fields, struct keys A, B and C in msgpack.
type Args struct {
	A int
	B int
}

type Reply struct {
	C int
}

// Arith is the part of the interop Arith service the registry tests call.
type Arith struct{}

func (t *Arith) Mul(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A * args.B
	return nil
}

func (t *Arith) Add(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A + args.B
	return nil
}
