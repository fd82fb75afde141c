/**
 * Struct classes written by hand in the two shapes the Thrift compiler's `js:node` generator
 * emits (the tests must not depend on the compiler being installed):
 * - up to Thrift 0.20: `read`/`write` prototype methods, as `ThriftArgs` here;
 * - since 0.21: `Symbol.for('read')`/`Symbol.for('write')` methods wrapped in recursion-depth
 *   calls, as `Kitchen`, `Inner` and `Chain` here.
 * Generated code takes type numbers from `Thrift.Type` of the `thrift` package; `TType` has the
 * same numbers.
 */
import { TType } from '../src/index.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Protocol = any;

// The very symbols generated code uses; typed as unique so the methods are typed members.
const READ: unique symbol = Symbol.for('read') as never;
const WRITE: unique symbol = Symbol.for('write') as never;

// ThriftArgs { 1: i32 A, 2: i32 B }, in the pre-0.21 generated shape.
export interface ThriftArgs {
  A: number | null;
  B: number | null;
  read(input: Protocol): void;
  write(output: Protocol): void;
}
export const ThriftArgs = function (this: ThriftArgs, args?: { A?: number; B?: number }) {
  this.A = null;
  this.B = null;
  if (args) {
    if (args.A !== undefined && args.A !== null) this.A = args.A;
    if (args.B !== undefined && args.B !== null) this.B = args.B;
  }
} as unknown as new (args?: { A?: number; B?: number }) => ThriftArgs;
ThriftArgs.prototype.read = function (this: ThriftArgs, input: Protocol) {
  input.readStructBegin();
  for (;;) {
    const { ftype, fid } = input.readFieldBegin();
    if (ftype === TType.STOP) break;
    if (fid === 1 && ftype === TType.I32) this.A = input.readI32();
    else if (fid === 2 && ftype === TType.I32) this.B = input.readI32();
    else input.skip(ftype);
    input.readFieldEnd();
  }
  input.readStructEnd();
};
ThriftArgs.prototype.write = function (this: ThriftArgs, output: Protocol) {
  output.writeStructBegin('ThriftArgs');
  if (this.A !== null && this.A !== undefined) {
    output.writeFieldBegin('A', TType.I32, 1);
    output.writeI32(this.A);
    output.writeFieldEnd();
  }
  if (this.B !== null && this.B !== undefined) {
    output.writeFieldBegin('B', TType.I32, 2);
    output.writeI32(this.B);
    output.writeFieldEnd();
  }
  output.writeFieldStop();
  output.writeStructEnd();
};

// Inner { 1: string s }
export class Inner {
  s: string | null = null;
  constructor(args?: { s?: string }) {
    if (args?.s != null) this.s = args.s;
  }
  [READ](input: Protocol): void {
    input.incrementRecursionDepth();
    try {
      input.readStructBegin();
      for (;;) {
        const { ftype, fid } = input.readFieldBegin();
        if (ftype === TType.STOP) break;
        if (fid === 1 && ftype === TType.STRING) this.s = input.readString();
        else input.skip(ftype);
        input.readFieldEnd();
      }
      input.readStructEnd();
    } finally {
      input.decrementRecursionDepth();
    }
  }
  [WRITE](output: Protocol): void {
    output.incrementRecursionDepth();
    try {
      output.writeStructBegin('Inner');
      if (this.s != null) {
        output.writeFieldBegin('s', TType.STRING, 1);
        output.writeString(this.s);
        output.writeFieldEnd();
      }
      output.writeFieldStop();
      output.writeStructEnd();
    } finally {
      output.decrementRecursionDepth();
    }
  }
}

/**
 * Kitchen { 1: bool b, 2: i8 y, 3: i16 s16, 4: i32 s32, 5: i64 s64, 6: double d, 7: string str,
 * 8: binary bin, 9: list<i32> li, 10: map<string,i64> m, 11: set<string> st, 12: Inner inner,
 * 13: uuid u, 14: string write }: a field named `write` is why 0.21 moved to symbols.
 */
type KitchenField = 'b' | 'y' | 's16' | 's32' | 's64' | 'd' | 'str' | 'bin' | 'li' | 'm' | 'st' | 'inner' | 'u' | 'write';

export class Kitchen {
  b: boolean | null = null;
  y: number | null = null;
  s16: number | null = null;
  s32: number | null = null;
  s64: unknown = null;
  d: number | null = null;
  str: string | null = null;
  bin: Uint8Array | null = null;
  li: number[] | null = null;
  m: Record<string, unknown> | null = null;
  st: string[] | null = null;
  inner: Inner | null = null;
  u: string | null = null;
  write: string | null = null;

  constructor(args?: Partial<Record<KitchenField, unknown>>) {
    if (args) {
      // Generated constructors copy each known field the same way, one `if` per field.
      for (const key of Object.keys(this)) {
        const value = (args as Record<string, unknown>)[key];
        if (value !== undefined && value !== null) (this as Record<string, unknown>)[key] = value;
      }
    }
  }

  [READ](input: Protocol): void {
    input.incrementRecursionDepth();
    try {
      input.readStructBegin();
      for (;;) {
        const { ftype, fid } = input.readFieldBegin();
        if (ftype === TType.STOP) break;
        switch (fid) {
          case 1: if (ftype === TType.BOOL) { this.b = input.readBool(); } else input.skip(ftype); break;
          case 2: if (ftype === TType.BYTE) { this.y = input.readByte(); } else input.skip(ftype); break;
          case 3: if (ftype === TType.I16) { this.s16 = input.readI16(); } else input.skip(ftype); break;
          case 4: if (ftype === TType.I32) { this.s32 = input.readI32(); } else input.skip(ftype); break;
          case 5: if (ftype === TType.I64) { this.s64 = input.readI64(); } else input.skip(ftype); break;
          case 6: if (ftype === TType.DOUBLE) { this.d = input.readDouble(); } else input.skip(ftype); break;
          case 7: if (ftype === TType.STRING) { this.str = input.readString(); } else input.skip(ftype); break;
          case 8: if (ftype === TType.STRING) { this.bin = input.readBinary(); } else input.skip(ftype); break;
          case 9:
            if (ftype === TType.LIST) {
              this.li = [];
              const { size } = input.readListBegin();
              for (let i = 0; i < size; i++) this.li.push(input.readI32());
              input.readListEnd();
            } else input.skip(ftype);
            break;
          case 10:
            if (ftype === TType.MAP) {
              this.m = {};
              const { size } = input.readMapBegin();
              for (let i = 0; i < size; i++) {
                const key = input.readString();
                this.m[key] = input.readI64();
              }
              input.readMapEnd();
            } else input.skip(ftype);
            break;
          case 11:
            if (ftype === TType.SET) {
              this.st = [];
              const { size } = input.readSetBegin();
              for (let i = 0; i < size; i++) this.st.push(input.readString());
              input.readSetEnd();
            } else input.skip(ftype);
            break;
          case 12:
            if (ftype === TType.STRUCT) {
              this.inner = new Inner();
              this.inner[READ](input);
            } else input.skip(ftype);
            break;
          case 13: if (ftype === TType.UUID) { this.u = input.readUuid(); } else input.skip(ftype); break;
          case 14: if (ftype === TType.STRING) { this.write = input.readString(); } else input.skip(ftype); break;
          default:
            input.skip(ftype);
        }
        input.readFieldEnd();
      }
      input.readStructEnd();
    } finally {
      input.decrementRecursionDepth();
    }
  }

  [WRITE](output: Protocol): void {
    output.incrementRecursionDepth();
    try {
      output.writeStructBegin('Kitchen');
      const field = (name: string, type: number, id: number, body: () => void) => {
        output.writeFieldBegin(name, type, id);
        body();
        output.writeFieldEnd();
      };
      if (this.b != null) field('b', TType.BOOL, 1, () => output.writeBool(this.b));
      if (this.y != null) field('y', TType.BYTE, 2, () => output.writeByte(this.y));
      if (this.s16 != null) field('s16', TType.I16, 3, () => output.writeI16(this.s16));
      if (this.s32 != null) field('s32', TType.I32, 4, () => output.writeI32(this.s32));
      if (this.s64 != null) field('s64', TType.I64, 5, () => output.writeI64(this.s64));
      if (this.d != null) field('d', TType.DOUBLE, 6, () => output.writeDouble(this.d));
      if (this.str != null) field('str', TType.STRING, 7, () => output.writeString(this.str));
      if (this.bin != null) field('bin', TType.STRING, 8, () => output.writeBinary(this.bin));
      if (this.li != null) {
        const li = this.li;
        field('li', TType.LIST, 9, () => {
          output.writeListBegin(TType.I32, li.length);
          for (const item of li) output.writeI32(item);
          output.writeListEnd();
        });
      }
      if (this.m != null) {
        const m = this.m;
        field('m', TType.MAP, 10, () => {
          output.writeMapBegin(TType.STRING, TType.I64, Object.keys(m).length);
          for (const [key, value] of Object.entries(m)) {
            output.writeString(key);
            output.writeI64(value);
          }
          output.writeMapEnd();
        });
      }
      if (this.st != null) {
        const st = this.st;
        field('st', TType.SET, 11, () => {
          output.writeSetBegin(TType.STRING, st.length);
          for (const item of st) output.writeString(item);
          output.writeSetEnd();
        });
      }
      if (this.inner != null) {
        const inner = this.inner;
        field('inner', TType.STRUCT, 12, () => inner[WRITE](output));
      }
      if (this.u != null) field('u', TType.UUID, 13, () => output.writeUuid(this.u));
      if (this.write != null) field('write', TType.STRING, 14, () => output.writeString(this.write));
      output.writeFieldStop();
      output.writeStructEnd();
    } finally {
      output.decrementRecursionDepth();
    }
  }
}

// Chain { 1: Chain next }: for the recursion-depth limit.
export class Chain {
  next: Chain | null = null;
  [READ](input: Protocol): void {
    input.incrementRecursionDepth();
    try {
      input.readStructBegin();
      for (;;) {
        const { ftype, fid } = input.readFieldBegin();
        if (ftype === TType.STOP) break;
        if (fid === 1 && ftype === TType.STRUCT) {
          this.next = new Chain();
          this.next[READ](input);
        } else input.skip(ftype);
        input.readFieldEnd();
      }
      input.readStructEnd();
    } finally {
      input.decrementRecursionDepth();
    }
  }
  [WRITE](output: Protocol): void {
    output.incrementRecursionDepth();
    try {
      if (this.next) {
        output.writeFieldBegin('next', TType.STRUCT, 1);
        this.next[WRITE](output);
        output.writeFieldEnd();
      }
      output.writeFieldStop();
    } finally {
      output.decrementRecursionDepth();
    }
  }
}

/** A hand-written class with a static `read` that returns a plain value. */
export class StaticPair {
  constructor(
    public A = 0,
    public B = 0,
  ) {}
  static read(input: Protocol): { A: number; B: number } {
    const out = { A: 0, B: 0 };
    input.readStructBegin();
    for (;;) {
      const { ftype, fid } = input.readFieldBegin();
      if (ftype === TType.STOP) break;
      if (fid === 1 && ftype === TType.I32) out.A = input.readI32();
      else if (fid === 2 && ftype === TType.I32) out.B = input.readI32();
      else input.skip(ftype);
    }
    return out;
  }
  write(output: Protocol): void {
    output.writeFieldBegin('A', TType.I32, 1);
    output.writeI32(this.A);
    output.writeFieldBegin('B', TType.I32, 2);
    output.writeI32(this.B);
    output.writeFieldStop();
  }
}
