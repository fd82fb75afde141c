// The Arith service the protection examples serve.
export class Arith {
  Mul(args: { A: number; B: number }) {
    return { C: args.A * args.B };
  }
}
