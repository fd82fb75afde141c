// Typed stubs from one .proto, both ways: the TypeScript stubs protoc-gen-rpcx-es generates
// (test/gen/shop_rpcx.ts over protoc-gen-es messages) against a Go rpcx v1.9.4 peer that uses
// only a stub in protoc-gen-rpcx's shape over protoc-gen-go messages (interop/go-protoc). Every
// field kind crosses: nested messages, enums, repeated, maps, a oneof, 64-bit integers beyond
// 2^53 and well-known types.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, equals, fromBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { anyPack, anyUnpack, timestampMs, TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import { protobufCodec } from '@rpcx/codec-protobuf';
import { ServiceError, SerializeType } from '@rpcx/core';
import { Server } from '@rpcx/server';
import { tcpTransport } from '@rpcx/transport-tcp';
import { OneClient, XClient, peer2peer } from '@rpcx/xclient';
import { mustRun, pluginDir, protoc, removeDir, withoutVersion } from '../../packages/protoc-gen-rpcx/test/support/generate.js';
import { CustomerSchema, OrderSchema, ReceiptSchema, Status, type Order } from './gen/shop_pb.js';
import { ShopService, newShopClient, newShopOneClient, registerShop, type ShopAble } from './gen/shop_rpcx.js';
import { STUBS_MODULE, buildStubPeer, runStubClient, startStubServer, type StubServer } from './support/stub-peer.js';

/** The order stubpeer's SampleOrder builds (interop/go-protoc/cmd/stubpeer/main.go). */
function sampleOrder(): Order {
  return create(OrderSchema, {
    id: 9007199254740993n, // 2^53 + 1
    mask: 18446744073709551613n,
    customer: { name: 'Zoë', address: { city: 'Łódź', lines: ['1 Rue', 'Apt 2'] } },
    lines: [
      { sku: 'A-1', quantity: 3, unitPriceMicros: 1_500_000n },
      { sku: 'B-2', quantity: 1, unitPriceMicros: -250_000n },
    ],
    counters: { views: 9007199254740993n, carts: 2n },
    contacts: { 7: { name: 'Ann' }, [-1]: { name: 'Bob', address: { city: 'Oslo' } } },
    status: Status.PAID,
    payment: { case: 'card', value: { number: '4111', token: 18446744073709551615n } },
    placedAt: { seconds: 1767323045n, nanos: 123456789 }, // 2026-01-02T03:04:05.123456789Z
    ttl: { seconds: 90061n, nanos: 500_000_000 },
    discountMicros: 250_000n,
    note: '',
    extra: { n: 1.5, tags: ['a', 'b'], nested: { ok: true }, nothing: null, label: 'x' },
    attachment: anyPack(CustomerSchema, create(CustomerSchema, { name: 'Cy' })),
    history: [Status.OPEN, Status.PAID],
    blob: new Uint8Array([0x00, 0xff, 0x10, 0x80]),
    weight: 2.75,
    gift: true,
  });
}

/** Place's answer to sampleOrder(), worked out by hand (Go's Place and ours must both give it). */
const expectedReceipt = create(ReceiptSchema, {
  nextId: 9007199254740994n,
  maskInverted: 2n,
  totalMicros: 4_000_000n, // 3 × 1.5 − 0.25 − 0.25 discount
  shipTo: 'Zoë, Łódź, 1 Rue/Apt 2',
  counterSum: 9007199254740995n, // not a double: 2^53 + 3
  contacts: ['-1=Bob', '7=Ann'],
  payment: 'card 4111 18446744073709551615',
  nextStatus: Status.SHIPPED,
  expiresAt: { seconds: 1767413106n, nanos: 623456789 },
  discountMicros: 250_000n,
  hasNote: true,
  extra: ['label:string', 'n:number', 'nested:struct', 'nothing:null', 'tags:list'],
  attachment: 'type.googleapis.com/shop.v1.Customer Cy',
  history: [Status.PAID, Status.OPEN],
  blob: new Uint8Array([0x80, 0x10, 0xff, 0x00]),
  weight: 5.5,
  gift: false,
});

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'object' ? 'struct' : typeof value;
}

/** Our Place: the same rules as stubpeer's. */
function place(o: Order): MessageInitShape<typeof ReceiptSchema> {
  let totalMicros = o.lines.reduce((sum, line) => sum + BigInt(line.quantity) * line.unitPriceMicros, 0n);
  if (o.discountMicros !== undefined) totalMicros -= o.discountMicros;
  const card = o.payment.case === 'card' ? o.payment.value : undefined;
  let expiresAt: Timestamp | undefined;
  if (o.placedAt && o.ttl) {
    const nanos = o.placedAt.nanos + o.ttl.nanos;
    expiresAt = create(TimestampSchema, { seconds: o.placedAt.seconds + o.ttl.seconds + BigInt(Math.floor(nanos / 1e9)), nanos: nanos % 1e9 });
  }
  const attached = o.attachment && anyUnpack(o.attachment, CustomerSchema);
  return {
    nextId: o.id + 1n,
    maskInverted: o.mask ^ 0xffff_ffff_ffff_ffffn,
    totalMicros,
    shipTo: `${o.customer?.name}, ${o.customer?.address?.city}, ${o.customer?.address?.lines.join('/')}`,
    counterSum: Object.values(o.counters).reduce((a, b) => a + b, 0n),
    contacts: Object.keys(o.contacts)
      .map(Number)
      .sort((a, b) => a - b)
      .map((key) => `${key}=${o.contacts[key].name}`),
    payment: card
      ? `card ${card.number} ${card.token}`
      : o.payment.case === 'voucher' || o.payment.case === 'account'
        ? `${o.payment.case} ${o.payment.value}`
        : 'none',
    nextStatus: o.status + 1,
    expiresAt,
    discountMicros: o.discountMicros,
    hasNote: o.note !== undefined,
    extra: Object.entries(o.extra ?? {})
      .map(([key, value]) => `${key}:${kindOf(value)}`)
      .sort(),
    attachment: o.attachment ? `${o.attachment.typeUrl} ${attached?.name}` : '',
    history: [...o.history].reverse(),
    // A copy: a decoded bytes field may be a view of the frame (Buffer#slice would not copy it).
    blob: Uint8Array.from(o.blob).reverse(),
    weight: o.weight * 2,
    gift: !o.gift,
  };
}

/** The TypeScript Shop, keeping what it was sent. */
class TsShop implements ShopAble {
  readonly received: Order[] = [];

  Echo(args: Order) {
    this.received.push(args);
    return args;
  }

  Place(args: Order) {
    this.received.push(args);
    return place(args);
  }

  Refuse(args: { reason: string }): never {
    throw new Error(args.reason);
  }

  Ping() {
    return { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: (Date.now() % 1000) * 1e6 };
  }
}

const fromBase64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));
/** A Timestamp within a minute of now: the clocks of two processes on one machine. */
const nearNow = (ts: Timestamp) => Math.abs(timestampMs(ts) - Date.now()) < 60_000;

describe('typed stubs from one .proto: TypeScript (protoc-gen-rpcx-es) and Go (protoc-gen-rpcx shape)', () => {
  let goServer: StubServer;
  let tsServer: Server;
  let tsAddress: string;
  const tsShop = new TsShop();
  const closers: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    await buildStubPeer();
    goServer = await startStubServer();
    tsServer = new Server({ transports: [tcpTransport()], codecs: [protobufCodec()] });
    await registerShop(tsServer, tsShop);
    tsAddress = (await tsServer.listen('tcp', '127.0.0.1:0')).address;
  }, 600_000);
  afterAll(async () => {
    await Promise.all(closers.map((c) => c.close()));
    await tsServer?.close();
    await goServer?.stop();
  });

  function goShop() {
    const xclient = new XClient({
      servicePath: ShopService.servicePath,
      discovery: peer2peer(`tcp@${goServer.address}`),
      transports: [tcpTransport()],
      codecs: [protobufCodec()],
      serializeType: SerializeType.ProtoBuffer,
    });
    closers.push(xclient);
    return newShopClient(xclient);
  }

  test('test/gen/shop_*.ts and the Go peer\'s shop.pb.go are what the generators make from shop.proto now', async () => {
    const plugin = pluginDir();
    const out = mkdtempSync(join(tmpdir(), 'shop-gen-'));
    try {
      await protoc(plugin, join(STUBS_MODULE, 'proto'), ['shop.proto'], out, 'target=ts,import_extension=js');
      for (const name of ['shop_pb.ts', 'shop_rpcx.ts']) {
        const committed = readFileSync(new URL(`./gen/${name}`, import.meta.url), 'utf8');
        expect(withoutVersion(readFileSync(join(out, name), 'utf8'))).toBe(withoutVersion(committed));
      }
      const protocGenGo = join(out, 'protoc-gen-go');
      await mustRun('go', ['build', '-o', protocGenGo, 'google.golang.org/protobuf/cmd/protoc-gen-go'], { cwd: STUBS_MODULE, timeoutMs: 300_000 });
      await mustRun(
        'protoc',
        ['-Iproto', `--plugin=protoc-gen-go=${protocGenGo}`, `--go_out=${out}`, '--go_opt=paths=source_relative', 'proto/shop.proto'],
        { cwd: STUBS_MODULE },
      );
      expect(readFileSync(join(out, 'shop.pb.go'), 'utf8')).toBe(readFileSync(join(STUBS_MODULE, 'shoppb', 'shop.pb.go'), 'utf8'));
    } finally {
      removeDir(plugin);
      removeDir(out);
    }
  }, 300_000);

  test('TS client → Go server: Echo answers the order as sent, every field kind intact', async () => {
    const sent = sampleOrder();
    const echoed = await goShop().Echo(sent);
    expect(equals(OrderSchema, echoed, sent)).toBe(true);
    // Spot checks where a precision or shape slip would hide in a deep compare.
    expect(echoed.id).toBe(9007199254740993n);
    expect(echoed.payment).toMatchObject({ case: 'card', value: { token: 18446744073709551615n } });
    expect(echoed.counters.views).toBe(9007199254740993n);
    expect(echoed.note).toBe('');
    expect(echoed.extra).toEqual({ n: 1.5, tags: ['a', 'b'], nested: { ok: true }, nothing: null, label: 'x' });
    expect(anyUnpack(echoed.attachment!, CustomerSchema)?.name).toBe('Cy');
  });

  test('TS client → Go server: Go\'s Place reads every field as we do', async () => {
    const receipt = await goShop().Place(sampleOrder());
    expect(equals(ReceiptSchema, receipt, expectedReceipt)).toBe(true);
    // Our Place gives the same: the expected receipt is not just Go's.
    expect(equals(ReceiptSchema, create(ReceiptSchema, place(sampleOrder())), expectedReceipt)).toBe(true);
  });

  test('TS client → Go server: a Go error is a ServiceError with its text; the lower-case method by its Go name', async () => {
    const shop = goShop();
    const err = await shop.Refuse({ reason: 'no stock for Zoë' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).message).toBe('no stock for Zoë');
    expect(nearNow(await shop.Ping({}))).toBe(true);
  });

  test('TS OneClient → Go server', async () => {
    const one = new OneClient({ discovery: peer2peer(`tcp@${goServer.address}`), transports: [tcpTransport()], codecs: [protobufCodec()], serializeType: SerializeType.ProtoBuffer });
    closers.push(one);
    expect(equals(ReceiptSchema, await newShopOneClient(one).Place(sampleOrder()), expectedReceipt)).toBe(true);
  });

  test('Go client (ShopClient, ShopOneClient) → TS server: every call answered, the order read as Go built it', async () => {
    tsShop.received.length = 0;
    const result = await runStubClient(tsAddress);
    expect(result).toMatchObject({ echoEqual: true, refuseError: "out of stock: Zoë's order" });
    expect(result.echoError ?? result.placeError ?? result.oneClientError ?? result.pingError).toBeUndefined();
    expect(equals(ReceiptSchema, fromBinary(ReceiptSchema, fromBase64(result.receipt!)), expectedReceipt)).toBe(true);
    expect(equals(ReceiptSchema, fromBinary(ReceiptSchema, fromBase64(result.oneClientReceipt!)), expectedReceipt)).toBe(true);
    // Go's client calls "ping", the proto name: our server registered it beside "Ping".
    expect(nearNow(fromBinary(TimestampSchema, fromBase64(result.ping!)))).toBe(true);
    // Echo, Place, and the OneClient's Place, each with the order Go built.
    expect(tsShop.received).toHaveLength(3);
    for (const order of tsShop.received) expect(equals(OrderSchema, order, sampleOrder())).toBe(true);
  });

  test('Go client → Go server: the lower-case method misses, as protoc-gen-rpcx\'s own stubs do (why ours register both names)', async () => {
    const result = await runStubClient(goServer.address);
    expect(result.echoEqual).toBe(true);
    expect(equals(ReceiptSchema, fromBinary(ReceiptSchema, fromBase64(result.receipt!)), expectedReceipt)).toBe(true);
    expect(result.pingError).toBe("rpcx: can't find method ping");
  });
});
