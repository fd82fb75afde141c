// stubpeer is the Go side of the stubs interop test (interop/test/stubs.test.ts): a Go rpcx
// v1.9.4 server and client that use only the protoc-gen-rpcx-shaped stub in shoppb.
//
//	stubpeer serve --addr 127.0.0.1:0     serve Shop; prints "LISTENING tcp@host:port", stops on SIGTERM
//	stubpeer client --addr 127.0.0.1:PORT call Shop through ShopClient and ShopOneClient; prints one JSON object
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
	rpcxlog "github.com/smallnest/rpcx/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"rpcx-interop-stubs/shoppb"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: stubpeer serve|client --addr ADDR")
		os.Exit(2)
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := flags.String("addr", "127.0.0.1:0", "address to listen on (serve) or call (client)")
	flags.Parse(os.Args[2:])
	rpcxlog.SetLogger(rpcxlog.NewDefaultLogger(io.Discard, "", 0, rpcxlog.LvError))

	switch os.Args[1] {
	case "serve":
		serve(*addr)
	case "client":
		if err := json.NewEncoder(os.Stdout).Encode(callShop(*addr)); err != nil {
			log.Fatal(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}

// serve registers Shop as the stub's ServeForShop does (RegisterName("Shop", …)), with this
// implementation instead of the stub's empty ShopImpl, on a listener whose port it prints.
func serve(addr string) {
	s := server.NewServer()
	if err := s.RegisterName("Shop", new(shop), ""); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	fmt.Printf("LISTENING tcp@%s\n", ln.Addr())
	if err := s.ServeListener("tcp", ln); err != nil && !errors.Is(err, server.ErrServerClosed) {
		log.Fatal(err)
	}
}

// shop implements the stub's ShopAble.
type shop struct{}

var _ shoppb.ShopAble = (*shop)(nil)

func (*shop) Echo(ctx context.Context, args *shoppb.Order, reply *shoppb.Order) error {
	proto.Merge(reply, args)
	return nil
}

func (*shop) Place(ctx context.Context, args *shoppb.Order, reply *shoppb.Receipt) error {
	proto.Merge(reply, Place(args))
	return nil
}

func (*shop) Refuse(ctx context.Context, args *shoppb.Refusal, reply *emptypb.Empty) error {
	return errors.New(args.Reason)
}

func (*shop) Ping(ctx context.Context, args *emptypb.Empty, reply *timestamppb.Timestamp) error {
	now := time.Now()
	reply.Seconds, reply.Nanos = now.Unix(), int32(now.Nanosecond())
	return nil
}

// Place computes a Receipt from every field of the order; the TypeScript server computes the same.
func Place(o *shoppb.Order) *shoppb.Receipt {
	r := &shoppb.Receipt{NextId: o.Id + 1, MaskInverted: ^o.Mask, NextStatus: o.Status + 1, HasNote: o.Note != nil, Weight: o.Weight * 2, Gift: !o.Gift}
	for _, l := range o.Lines {
		r.TotalMicros += int64(l.Quantity) * l.UnitPriceMicros
	}
	if o.DiscountMicros != nil {
		r.TotalMicros -= o.DiscountMicros.Value
		r.DiscountMicros = wrapperspb.Int64(o.DiscountMicros.Value)
	}
	address := o.GetCustomer().GetAddress()
	r.ShipTo = o.GetCustomer().GetName() + ", " + address.GetCity() + ", " + strings.Join(address.GetLines(), "/")
	for _, v := range o.Counters {
		r.CounterSum += v
	}
	keys := make([]int, 0, len(o.Contacts))
	for k := range o.Contacts {
		keys = append(keys, int(k))
	}
	sort.Ints(keys)
	for _, k := range keys {
		r.Contacts = append(r.Contacts, fmt.Sprintf("%d=%s", k, o.Contacts[int32(k)].GetName()))
	}
	switch p := o.Payment.(type) {
	case *shoppb.Order_Card_:
		r.Payment = fmt.Sprintf("card %s %d", p.Card.Number, p.Card.Token)
	case *shoppb.Order_Voucher:
		r.Payment = "voucher " + p.Voucher
	case *shoppb.Order_Account:
		r.Payment = "account " + strconv.FormatInt(p.Account, 10)
	default:
		r.Payment = "none"
	}
	if o.PlacedAt != nil && o.Ttl != nil {
		r.ExpiresAt = timestamppb.New(o.PlacedAt.AsTime().Add(o.Ttl.AsDuration()))
	}
	for key, value := range o.GetExtra().GetFields() {
		r.Extra = append(r.Extra, key+":"+kindOf(value))
	}
	sort.Strings(r.Extra)
	if o.Attachment != nil {
		var c shoppb.Customer
		if err := o.Attachment.UnmarshalTo(&c); err != nil {
			r.Attachment = o.Attachment.TypeUrl + " " + err.Error()
		} else {
			r.Attachment = o.Attachment.TypeUrl + " " + c.Name
		}
	}
	for i := len(o.History) - 1; i >= 0; i-- {
		r.History = append(r.History, o.History[i])
	}
	for i := len(o.Blob) - 1; i >= 0; i-- {
		r.Blob = append(r.Blob, o.Blob[i])
	}
	return r
}

func kindOf(v *structpb.Value) string {
	switch v.Kind.(type) {
	case *structpb.Value_NullValue:
		return "null"
	case *structpb.Value_NumberValue:
		return "number"
	case *structpb.Value_StringValue:
		return "string"
	case *structpb.Value_BoolValue:
		return "bool"
	case *structpb.Value_StructValue:
		return "struct"
	case *structpb.Value_ListValue:
		return "list"
	}
	return "unset"
}

// SampleOrder is the order the Go client sends; interop/test/stubs.test.ts builds the same one.
func SampleOrder() *shoppb.Order {
	extra, err := structpb.NewStruct(map[string]any{
		"n":       1.5,
		"tags":    []any{"a", "b"},
		"nested":  map[string]any{"ok": true},
		"nothing": nil,
		"label":   "x",
	})
	if err != nil {
		log.Fatal(err)
	}
	attachment, err := anypb.New(&shoppb.Customer{Name: "Cy"})
	if err != nil {
		log.Fatal(err)
	}
	return &shoppb.Order{
		Id:   9007199254740993, // 2^53 + 1
		Mask: 18446744073709551613,
		Customer: &shoppb.Customer{
			Name:    "Zoë",
			Address: &shoppb.Customer_Address{City: "Łódź", Lines: []string{"1 Rue", "Apt 2"}},
		},
		Lines: []*shoppb.Line{
			{Sku: "A-1", Quantity: 3, UnitPriceMicros: 1_500_000},
			{Sku: "B-2", Quantity: 1, UnitPriceMicros: -250_000},
		},
		Counters: map[string]int64{"views": 9007199254740993, "carts": 2},
		Contacts: map[int32]*shoppb.Customer{
			7:  {Name: "Ann"},
			-1: {Name: "Bob", Address: &shoppb.Customer_Address{City: "Oslo"}},
		},
		Status:         shoppb.Status_STATUS_PAID,
		Payment:        &shoppb.Order_Card_{Card: &shoppb.Order_Card{Number: "4111", Token: 18446744073709551615}},
		PlacedAt:       &timestamppb.Timestamp{Seconds: 1767323045, Nanos: 123456789}, // 2026-01-02T03:04:05.123456789Z
		Ttl:            durationpb.New(25*time.Hour + time.Minute + 1500*time.Millisecond),
		DiscountMicros: wrapperspb.Int64(250_000),
		Note:           wrapperspb.String(""),
		Extra:          extra,
		Attachment:     attachment,
		History:        []shoppb.Status{shoppb.Status_STATUS_OPEN, shoppb.Status_STATUS_PAID},
		Blob:           []byte{0x00, 0xff, 0x10, 0x80},
		Weight:         2.75,
		Gift:           true,
	}
}

// clientResult is what `stubpeer client` prints: replies as base64 of their deterministic
// protobuf encoding (the test decodes them with the TypeScript messages), errors as Go's text.
type clientResult struct {
	EchoEqual        bool   `json:"echoEqual"`
	EchoError        string `json:"echoError,omitempty"`
	Receipt          string `json:"receipt,omitempty"`
	PlaceError       string `json:"placeError,omitempty"`
	OneClientReceipt string `json:"oneClientReceipt,omitempty"`
	OneClientError   string `json:"oneClientError,omitempty"`
	RefuseError      string `json:"refuseError,omitempty"`
	Ping             string `json:"ping,omitempty"`
	PingError        string `json:"pingError,omitempty"`
}

// callShop calls every method through the stub's ShopClient (on NewXClientForShop) and Place
// through its ShopOneClient.
func callShop(addr string) clientResult {
	var out clientResult
	xc, err := shoppb.NewXClientForShop(addr)
	if err != nil {
		log.Fatal(err)
	}
	defer xc.Close()
	shopClient := shoppb.NewShopClient(xc)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	order := SampleOrder()
	if echoed, err := shopClient.Echo(ctx, order); err != nil {
		out.EchoError = err.Error()
	} else {
		out.EchoEqual = proto.Equal(order, echoed)
	}
	if receipt, err := shopClient.Place(ctx, order); err != nil {
		out.PlaceError = err.Error()
	} else {
		out.Receipt = encode(receipt)
	}
	if _, err := shopClient.Refuse(ctx, &shoppb.Refusal{Reason: "out of stock: Zoë's order"}); err != nil {
		out.RefuseError = err.Error()
	}
	if now, err := shopClient.Ping(ctx, &emptypb.Empty{}); err != nil {
		out.PingError = err.Error()
	} else {
		out.Ping = encode(now)
	}

	d, err := client.NewPeer2PeerDiscovery("tcp@"+addr, "")
	if err != nil {
		log.Fatal(err)
	}
	opt := client.DefaultOption
	opt.SerializeType = protocol.ProtoBuffer
	oc := client.NewOneClient(client.Failtry, client.RoundRobin, d, opt)
	defer oc.Close()
	if receipt, err := shoppb.NewShopOneClient(oc).Place(ctx, order); err != nil {
		out.OneClientError = err.Error()
	} else {
		out.OneClientReceipt = encode(receipt)
	}
	return out
}

func encode(m proto.Message) string {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}
