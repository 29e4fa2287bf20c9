// mixed does a bit of everything a reproducer must replay: it reads the
// clock, draws random numbers, reads a file from a preopened directory
// (its first argument) and lists it, reads stdin, and sums in goroutines.
//
//	wtrace record --dir ./data::/data mixed.wasm /data < input.txt
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

func main() {
	start := time.Now()
	dir := os.Args[1]
	data, err := os.ReadFile(filepath.Join(dir, "greeting.txt"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	fmt.Printf("greeting.txt: %q\n", strings.TrimSpace(string(data)))
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println("entry:", e.Name())
	}

	var lines []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	fmt.Printf("stdin: %d lines, last %q\n", len(lines), lines[len(lines)-1])

	buf := make([]byte, 8)
	rand.Read(buf)
	fmt.Println("random:", hex.EncodeToString(buf))

	var wg sync.WaitGroup
	sums := make([]int, 4)
	for g := range sums {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100000*(g+1); i++ {
				sums[g] += i % 7
			}
			time.Sleep(time.Millisecond)
		}(g)
	}
	wg.Wait()
	fmt.Println("sums:", sums)
	fmt.Fprintln(os.Stderr, "took", time.Since(start).Round(time.Microsecond))
	fmt.Println("now:", time.Now().UTC().Format(time.RFC3339Nano))
	os.Exit(len(lines))
}
