// faults is the program fault injection is tried on (docs/fault-injection.md,
// tests/inject.rs): it reads a config file, random bytes and the clock,
// writes a file in the preopened directory given as its first argument,
// and prints what it got. With "flaky" as its second argument it fails
// when its first random byte is below 128: half of its runs.
//
//	wtrace record --dir ./scratch::/work --inject 'path_open:path~config:error=ENOENT' faults.wasm /work
package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := os.Args[1]
	cfg, err := os.ReadFile(filepath.Join(dir, "config.toml"))
	if err != nil {
		fmt.Println("config:", err)
	} else {
		fmt.Printf("config: %q\n", cfg)
	}

	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		fmt.Println("random:", err)
		os.Exit(3)
	}
	fmt.Printf("random: %x\n", b)

	t1 := time.Now()
	time.Sleep(10 * time.Millisecond)
	t2 := time.Now()
	fmt.Println("year:", t1.UTC().Year())
	fmt.Println("wall clock moved:", t2.UnixNano() != t1.UnixNano())
	fmt.Println("unix:", t1.Unix())

	err = os.WriteFile(filepath.Join(dir, "out.txt"), bytes.Repeat([]byte("x"), 100), 0o644)
	if err != nil {
		fmt.Println("write:", err)
		os.Exit(2)
	}
	fmt.Println("wrote out.txt")

	if len(os.Args) > 2 && os.Args[2] == "flaky" && b[0] < 128 {
		fmt.Println("unlucky")
		os.Exit(1)
	}
}
