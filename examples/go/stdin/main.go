// stdin reads all of standard input and prints its line count, byte count,
// a checksum and the first line.
package main

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
)

func main() {
	data, err := io.ReadAll(bufio.NewReader(os.Stdin))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	lines := strings.Count(string(data), "\n")
	first, _, _ := strings.Cut(string(data), "\n")
	fmt.Printf("%d lines, %d bytes, crc32 %08x, first line %q\n", lines, len(data), crc32.ChecksumIEEE(data), first)
}
