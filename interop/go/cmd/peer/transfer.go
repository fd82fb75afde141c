package main

// `peer transfer-serve` and `peer transfer-client`: rpcx's side channels, file
// transfer (`_filetransfer`) and the stream service (`_streamservice`), with the
// stock server.EnableFileTransfer / EnableStreamService and XClient.SendFile /
// DownloadFile / Stream of rpcx v1.9.4.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/smallnest/rpcx/client"
	"github.com/smallnest/rpcx/protocol"
	"github.com/smallnest/rpcx/server"
	"github.com/smallnest/rpcx/share"
)

// freeAddr picks a free loopback port for a side listener: rpcx's FileTransfer
// and StreamService tell clients their Addr as given, so ":0" cannot be used.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening dials addr until something accepts (rpcx starts its side
// listeners in a goroutine and reports no error). The probe sends no token, so
// rpcx drops it.
func waitListening(addr string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("side listener %s not up: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdTransferServe runs an rpcx server with the interop services plus file
// transfer into/out of --dir and an echoing stream service.
func cmdTransferServe(args []string) int {
	fs := flag.NewFlagSet("transfer-serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "TCP address of the rpcx port")
	dir := fs.String("dir", "", "directory uploads are written to and downloads read from")
	discard := fs.Bool("discard", false, "do not write uploads to --dir")
	hashUploads := fs.Bool("hash", true, "hash uploads (Uploads.Get reports the digest); --hash=false for benchmarks")
	verbose := fs.Bool("verbose", false, "log rpcx messages to stderr")
	fs.Parse(args)
	quietRPCX(*verbose)
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "transfer-serve: --dir is required")
		return 2
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)

	s := server.NewServer()
	uploads := &Uploads{seen: map[string]UploadReply{}}
	if err := errors.Join(registerInteropServices(s), s.RegisterName("Uploads", uploads, "")); err != nil {
		fmt.Fprintf(os.Stderr, "transfer-serve: %v\n", err)
		return 1
	}
	fileAddr, err1 := freeAddr()
	streamAddr, err2 := freeAddr()
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(os.Stderr, "transfer-serve: %v\n", err)
		return 1
	}

	// The handlers do what rpcx's examples do: copy, then close the connection.
	upload := func(conn net.Conn, a *share.FileTransferArgs) {
		defer conn.Close()
		h := sha256.New()
		var w io.Writer = io.Discard
		if *hashUploads {
			w = h
		}
		if !*discard {
			f, err := os.Create(filepath.Join(*dir, filepath.Base(a.FileName)))
			if err != nil {
				fmt.Fprintf(os.Stderr, "upload %s: %v\n", a.FileName, err)
				return
			}
			defer f.Close()
			w = io.MultiWriter(f, w)
		}
		n, err := io.Copy(w, conn)
		r := UploadReply{Announced: a.FileSize, Received: n, Sha256: sum(h), Meta: a.Meta}
		if err != nil {
			r.Error = err.Error()
		}
		uploads.add(a.FileName, r)
	}
	download := func(conn net.Conn, a *share.DownloadFileArgs) {
		defer conn.Close()
		f, err := os.Open(filepath.Join(*dir, filepath.Base(a.FileName)))
		if err != nil {
			// rpcx's side channel has no way to say so: the client sees an empty file.
			fmt.Fprintf(os.Stderr, "download %s: %v\n", a.FileName, err)
			return
		}
		defer f.Close()
		io.Copy(conn, f)
	}
	s.EnableFileTransfer(share.SendFileServiceName, server.NewFileTransfer(fileAddr, upload, download, 1000))

	echo := func(conn net.Conn, a *share.StreamServiceArgs) {
		defer conn.Close()
		io.Copy(conn, conn)
	}
	acceptor := func(ctx context.Context, a *share.StreamServiceArgs) bool { return a.Meta["refuse"] != "yes" }
	s.EnableStreamService(share.StreamServiceName, server.NewStreamService(streamAddr, echo, acceptor, 1000))
	for _, a := range []string{fileAddr, streamAddr} {
		if err := waitListening(a); err != nil {
			fmt.Fprintf(os.Stderr, "transfer-serve: %v\n", err)
			return 1
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "transfer-serve: listen: %v\n", err)
		return 1
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.ServeListener("tcp", ln) }()
	select {
	case <-s.Started:
	case err := <-serveErr:
		fmt.Fprintf(os.Stderr, "transfer-serve: serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stdout, "LISTENING tcp@%s\n", ln.Addr().String())
	os.Stdout.Sync()

	select {
	case <-sig:
	case err := <-serveErr:
		fmt.Fprintf(os.Stderr, "transfer-serve: serve ended: %v\n", err)
		return 1
	}
	// FileTransfer.Stop and StreamService.Stop close a nil channel in v1.9.4
	// (their done channels are never made): the process exit closes them.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Shutdown(ctx)
	return 0
}

// cmdTransferClient runs one SendFile, DownloadFile or Stream with the stock
// XClient and prints one JSON line: ok, error, bytes, sha256 digests, ms.
func cmdTransferClient(args []string) int {
	fs := flag.NewFlagSet("transfer-client", flag.ExitOnError)
	addr := fs.String("addr", "", "server as rpcx discovery key, e.g. tcp@127.0.0.1:8972")
	op := fs.String("op", "", "upload, download or stream")
	file := fs.String("file", "", "upload: the local file to send")
	name := fs.String("name", "", "download: the file name to ask for")
	out := fs.String("out", "", "download: where to write it (default: discard)")
	size := fs.Int64("bytes", 0, "stream: random bytes to send and read back")
	rate := fs.Int64("rate", 0, "upload: rateInBytesPerSecond (0 = no limit)")
	codec := fs.String("codec", "msgpack", "msgpack or json")
	meta := fs.String("meta", "", "k=v[,k=v] sent as Meta")
	digest := fs.Bool("hash", true, "download: compute the sha256 of what arrived")
	verbose := fs.Bool("verbose", false, "log rpcx messages to stderr")
	fs.Parse(args)
	quietRPCX(*verbose)

	opt := client.DefaultOption
	if *codec == "json" {
		opt.SerializeType = protocol.JSON
	}
	m := map[string]string{}
	for _, kv := range strings.Split(*meta, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	env := &clientEnv{addr: withNetwork(*addr, "")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	var r result
	started := time.Now()
	switch *op {
	case "upload":
		xc := env.newXClient(share.SendFileServiceName, opt)
		defer xc.Close()
		err := xc.SendFile(ctx, *file, *rate, m)
		r = transferResult(err, nil)
		if st, e := os.Stat(*file); e == nil {
			r["bytes"] = st.Size()
		}
	case "download":
		xc := env.newXClient(share.SendFileServiceName, opt)
		defer xc.Close()
		var w io.Writer = io.Discard
		if *out != "" {
			f, err := os.Create(*out)
			if err != nil {
				r = transferResult(err, nil)
				break
			}
			defer f.Close()
			w = f
		}
		h := sha256.New()
		counter := &countingWriter{}
		writers := []io.Writer{w, counter}
		if *digest {
			writers = append(writers, h)
		}
		err := xc.DownloadFile(ctx, *name, io.MultiWriter(writers...), m)
		r = transferResult(err, nil)
		r["bytes"] = counter.n
		if *digest {
			r["sha256"] = hex.EncodeToString(h.Sum(nil))
		}
	case "stream":
		xc := env.newXClient(share.StreamServiceName, opt)
		defer xc.Close()
		r = streamEcho(ctx, xc, *size, m)
	default:
		fmt.Fprintf(os.Stderr, "transfer-client: --op must be upload, download or stream, got %q\n", *op)
		return 2
	}
	r["ms"] = float64(time.Since(started).Microseconds()) / 1000
	b, _ := json.Marshal(r)
	os.Stdout.Write(append(b, '\n'))
	return 0
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func transferResult(err error, extra result) result {
	if err != nil {
		return failed(err, extra)
	}
	r := result{"ok": true, "pass": true}
	for k, v := range extra {
		r[k] = v
	}
	return r
}

// streamEcho opens a stream, writes n random bytes (then closes its write
// side) while reading everything the server sends back, and compares digests.
func streamEcho(ctx context.Context, xc client.XClient, n int64, meta map[string]string) result {
	conn, err := xc.Stream(ctx, meta)
	if err != nil {
		return failed(err, nil)
	}
	defer conn.Close()
	sent := sha256.New()
	writeErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, io.TeeReader(io.LimitReader(rand.Reader, n), sent))
		if cw, ok := conn.(interface{ CloseWrite() error }); ok && err == nil {
			err = cw.CloseWrite()
		}
		writeErr <- err
	}()
	recv := sha256.New()
	got, readErr := io.Copy(recv, conn)
	if err := errors.Join(<-writeErr, readErr); err != nil {
		return failed(err, result{"bytes": got})
	}
	return result{"ok": true, "bytes": got, "sentSha256": sum(sent), "recvSha256": sum(recv), "pass": got == n && sum(sent) == sum(recv)}
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// Uploads lets a test ask what `transfer-serve` received: Uploads.Get.
type Uploads struct {
	mu   sync.Mutex
	seen map[string]UploadReply
}

type UploadArgs struct{ FileName string }

type UploadReply struct {
	Found     bool
	Announced int64
	Received  int64
	Sha256    string
	Meta      map[string]string
	Error     string
}

func (u *Uploads) add(name string, r UploadReply) {
	u.mu.Lock()
	defer u.mu.Unlock()
	r.Found = true
	u.seen[name] = r
}

// Get returns the last upload of FileName that has ended (Found is false before).
func (u *Uploads) Get(ctx context.Context, args *UploadArgs, reply *UploadReply) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	*reply = u.seen[args.FileName]
	return nil
}
