// Written by hand in the shape protoc-gen-rpcx (github.com/rpcxio/protoc-gen-rpcx) gives
// shop.proto's service: the Go module proxy does not serve protoc-gen-rpcx, so this file stands
// in for its output. Names, signatures, the service path and the method names sent on the wire
// are the plugin's: see ../README.md. Well-known types are the google.golang.org/protobuf ones
// (emptypb, timestamppb), which the plugin's older ptypes packages alias.
// source: shop.proto

package shoppb

import (
	context "context"

	client "github.com/smallnest/rpcx/client"
	protocol "github.com/smallnest/rpcx/protocol"
	server "github.com/smallnest/rpcx/server"
	emptypb "google.golang.org/protobuf/types/known/emptypb"
	timestamppb "google.golang.org/protobuf/types/known/timestamppb"
)

// Reference imports to suppress errors if they are not otherwise used.
var _ = context.TODO
var _ = server.NewServer
var _ = client.NewClient
var _ = protocol.NewMessage

// ================== interface skeleton ===================
type ShopAble interface {
	// ShopAble can be used for interface verification.

	// Echo is server rpc method as defined
	Echo(ctx context.Context, args *Order, reply *Order) (err error)

	// Place is server rpc method as defined
	Place(ctx context.Context, args *Order, reply *Receipt) (err error)

	// Refuse is server rpc method as defined
	Refuse(ctx context.Context, args *Refusal, reply *emptypb.Empty) (err error)

	// Ping is server rpc method as defined
	Ping(ctx context.Context, args *emptypb.Empty, reply *timestamppb.Timestamp) (err error)
}

// ================== server skeleton ===================
type ShopImpl struct{}

// ServeForShop starts a server only registers one service.
// You can register more services and only start one server.
// It blocks until the application exits.
func ServeForShop(addr string) error {
	s := server.NewServer()
	s.RegisterName("Shop", new(ShopImpl), "")
	return s.Serve("tcp", addr)
}

// Echo is server rpc method as defined
func (s *ShopImpl) Echo(ctx context.Context, args *Order, reply *Order) (err error) {
	// TODO: add business logics

	// TODO: setting return values
	reply.Reset()

	return nil
}

// Place is server rpc method as defined
func (s *ShopImpl) Place(ctx context.Context, args *Order, reply *Receipt) (err error) {
	// TODO: add business logics

	// TODO: setting return values
	reply.Reset()

	return nil
}

// Refuse is server rpc method as defined
func (s *ShopImpl) Refuse(ctx context.Context, args *Refusal, reply *emptypb.Empty) (err error) {
	// TODO: add business logics

	// TODO: setting return values
	reply.Reset()

	return nil
}

// Ping is server rpc method as defined
func (s *ShopImpl) Ping(ctx context.Context, args *emptypb.Empty, reply *timestamppb.Timestamp) (err error) {
	// TODO: add business logics

	// TODO: setting return values
	reply.Reset()

	return nil
}

// ================== client stub ===================
// Shop is a client wrapped XClient.
type ShopClient struct {
	xclient client.XClient
}

// NewShopClient wraps a XClient as ShopClient.
// You can pass a shared XClient object created by NewXClientForShop.
func NewShopClient(xclient client.XClient) *ShopClient {
	return &ShopClient{xclient: xclient}
}

// NewXClientForShop creates a XClient.
// You can configure this client with more options such as etcd registry, serialize type, select algorithm and fail mode.
func NewXClientForShop(addr string) (client.XClient, error) {
	d, err := client.NewPeer2PeerDiscovery("tcp@"+addr, "")
	if err != nil {
		return nil, err
	}

	opt := client.DefaultOption
	opt.SerializeType = protocol.ProtoBuffer

	xclient := client.NewXClient("Shop", client.Failtry, client.RoundRobin, d, opt)

	return xclient, nil
}

// Echo is client rpc method as defined
func (c *ShopClient) Echo(ctx context.Context, args *Order) (reply *Order, err error) {
	reply = &Order{}
	err = c.xclient.Call(ctx, "Echo", args, reply)
	return reply, err
}

// Place is client rpc method as defined
func (c *ShopClient) Place(ctx context.Context, args *Order) (reply *Receipt, err error) {
	reply = &Receipt{}
	err = c.xclient.Call(ctx, "Place", args, reply)
	return reply, err
}

// Refuse is client rpc method as defined
func (c *ShopClient) Refuse(ctx context.Context, args *Refusal) (reply *emptypb.Empty, err error) {
	reply = &emptypb.Empty{}
	err = c.xclient.Call(ctx, "Refuse", args, reply)
	return reply, err
}

// Ping is client rpc method as defined
func (c *ShopClient) Ping(ctx context.Context, args *emptypb.Empty) (reply *timestamppb.Timestamp, err error) {
	reply = &timestamppb.Timestamp{}
	err = c.xclient.Call(ctx, "ping", args, reply)
	return reply, err
}

// ================== oneclient stub ===================
// ShopOneClient is a client wrapped oneClient.
type ShopOneClient struct {
	serviceName string
	oneclient   *client.OneClient
}

// NewShopOneClient wraps a OneClient as ShopOneClient.
// You can pass a shared OneClient object created by NewOneClientForShop.
func NewShopOneClient(oneclient *client.OneClient) *ShopOneClient {
	return &ShopOneClient{
		serviceName: "Shop",
		oneclient:   oneclient,
	}
}

// ======================================================

// Echo is client rpc method as defined
func (c *ShopOneClient) Echo(ctx context.Context, args *Order) (reply *Order, err error) {
	reply = &Order{}
	err = c.oneclient.Call(ctx, c.serviceName, "Echo", args, reply)
	return reply, err
}

// Place is client rpc method as defined
func (c *ShopOneClient) Place(ctx context.Context, args *Order) (reply *Receipt, err error) {
	reply = &Receipt{}
	err = c.oneclient.Call(ctx, c.serviceName, "Place", args, reply)
	return reply, err
}

// Refuse is client rpc method as defined
func (c *ShopOneClient) Refuse(ctx context.Context, args *Refusal) (reply *emptypb.Empty, err error) {
	reply = &emptypb.Empty{}
	err = c.oneclient.Call(ctx, c.serviceName, "Refuse", args, reply)
	return reply, err
}

// Ping is client rpc method as defined
func (c *ShopOneClient) Ping(ctx context.Context, args *emptypb.Empty) (reply *timestamppb.Timestamp, err error) {
	reply = &timestamppb.Timestamp{}
	err = c.oneclient.Call(ctx, c.serviceName, "ping", args, reply)
	return reply, err
}
