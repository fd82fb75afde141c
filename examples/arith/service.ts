// The Arith service of the rpcx examples. The interface is shared by server and client, so
// client calls are type-checked: `arith.Mul({ A: 10, B: 20 })` resolves to a Reply.
// Field names are Go's (A, B, C): a Go rpcx client or server uses the same struct keys.
import type { RequestContext } from '@rpcx/server';

export interface Args {
  A: number;
  B: number;
}

export interface Reply {
  C: number;
}

export interface ArithService {
  Mul(args: Args): Reply;
  Add(args: Args): Reply;
}

export class Arith implements ArithService {
  Mul(args: Args, _ctx?: RequestContext): Reply {
    return { C: args.A * args.B };
  }

  Add(args: Args): Reply {
    return { C: args.A + args.B };
  }
}
