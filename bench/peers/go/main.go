// Command echo is the Go peer of bench/peers.sh: a {packet,4} echo server
// with one goroutine per connection, standard library only.
//
//	echo [port=0]
//
// Each goroutine reads through a 4 KiB bufio.Reader into a payload slice
// kept for the connection's life (it grows to the largest frame seen) and
// writes through a 4 KiB bufio.Writer that is flushed when no further
// complete input is buffered, so pipelined frames go back in few writes and
// a lone request is answered at once. 127.0.0.1, backlog somaxconn (Go's choice), Nagle on (Go turns it
// off by default; the benchmark's servers all leave it on). GOMAXPROCS is
// Go's default (the number of CPUs). Prints "listening on PORT", serves
// until killed.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

func serve(c *net.TCPConn) {
	defer c.Close()
	c.SetNoDelay(false)
	r := bufio.NewReaderSize(c, 4096)
	w := bufio.NewWriterSize(c, 4096)
	var hdr [4]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(hdr[:]))
		if cap(payload) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			return
		}
		w.Write(hdr[:])
		w.Write(payload)
		if r.Buffered() < 4 { // nothing complete is waiting: answer now
			if w.Flush() != nil {
				return
			}
		}
	}
}

func main() {
	port := "0"
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(a, "port=") {
			port = a[5:]
		}
	}
	l, err := net.Listen("tcp4", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go echo:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %d\n", l.Addr().(*net.TCPAddr).Port)
	tl := l.(*net.TCPListener)
	for {
		c, err := tl.AcceptTCP()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go echo: accept:", err)
			continue
		}
		go serve(c)
	}
}
