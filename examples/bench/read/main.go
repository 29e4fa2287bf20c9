// read: read-heavy. Reads a file (argument; the bench script makes a
// 100 MB one) in 4 KiB reads and prints its size and a checksum.
package main

import (
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

func main() {
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 4096)
	var total int64
	var sum uint32
	for {
		n, err := f.Read(buf)
		total += int64(n)
		sum = crc32.Update(sum, crc32.IEEETable, buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Printf("read %d bytes, crc32 %08x\n", total, sum)
}
