// probe is the local cluster's smoke-test workload: one static binary (CGO_ENABLED=0, Go's own resolver)
// that serves HTTP and can resolve and GET URLs. It exists because no upstream image can be pulled here and
// Debian's busybox wget segfaults in containers (static glibc + NSS).
//
//	probe serve  [-addr :8080] [-text TEXT]        serve TEXT (default $PROBE_TEXT or "ok") on /, 200 on /healthz
//	probe get    [-timeout 60s] [-expect S] URL     GET URL until it answers 200 (and contains S); print the body
//	probe resolve [-timeout 60s] NAME               resolve NAME until it resolves; print the addresses
//	probe resolve -expect-nxdomain NAME             succeed only when NAME is answered "not found"
//	probe touch PATH...                             create (and remove) a file at each PATH: proves writability
//
// get/resolve retry until their deadline because Services and DNS records appear a moment after the objects
// that define them; they exit non-zero with the last error when the deadline passes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "get":
		err = get(os.Args[2:])
	case "resolve":
		err = resolve(os.Args[2:])
	case "touch":
		err = touch(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: probe serve [-addr :8080] [-text TEXT] | get [-timeout D] [-expect S] URL | resolve [-timeout D] [-expect-nxdomain] NAME | touch PATH...")
	os.Exit(2)
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", ":8080", "listen address")
	text := fs.String("text", envOr("PROBE_TEXT", "ok"), "response body of /")
	_ = fs.Parse(args)
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintf(w, "%s from %s\n", *text, host) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("serving %q on %s\n", *text, *addr)
	return srv.ListenAndServe()
}

func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	expect := fs.String("expect", "", "require this substring in the body")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	url := fs.Arg(0)
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(*timeout)
	var last error
	for attempt := 1; ; attempt++ {
		body, err := fetch(client, url)
		if err == nil && *expect != "" && !strings.Contains(body, *expect) {
			err = fmt.Errorf("body %q lacks %q", strings.TrimSpace(body), *expect)
		}
		if err == nil {
			fmt.Print(body)
			return nil
		}
		last = err
		if time.Now().After(deadline) {
			return fmt.Errorf("GET %s: gave up after %d attempts (%s): %w", url, attempt, *timeout, last)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func fetch(client *http.Client, url string) (string, error) {
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return string(b), nil
}

func resolve(args []string) error {
	fs := flag.NewFlagSet("resolve", flag.ExitOnError)
	timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
	expectFail := fs.Bool("expect-nxdomain", false, "succeed only if the name does NOT resolve (not found)")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	name := fs.Arg(0)
	deadline := time.Now().Add(*timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		addrs, err := net.DefaultResolver.LookupHost(ctx, name)
		cancel()
		var dnsErr *net.DNSError
		switch {
		case *expectFail && errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			fmt.Printf("%s: not found (as expected)\n", name)
			return nil
		case !*expectFail && err == nil:
			fmt.Printf("%s: %s\n", name, strings.Join(addrs, " "))
			return nil
		case *expectFail && err == nil:
			return fmt.Errorf("%s resolved to %v, expected not found", name, addrs)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("resolve %s: gave up after %s: %v", name, *timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func touch(paths []string) error {
	if len(paths) == 0 {
		usage()
	}
	for _, p := range paths {
		if err := os.WriteFile(p, []byte("probe\n"), 0o600); err != nil {
			return err
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		fmt.Printf("%s: writable\n", p)
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
