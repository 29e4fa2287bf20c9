// smallwrite: small-write-heavy. 200,000 unbuffered writes of 64 bytes to a
// file in the first preopened directory (argument: the file path).
package main

import (
	"fmt"
	"os"
)

func main() {
	path := "out.bin"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buf := make([]byte, 64)
	for i := range buf {
		buf[i] = byte('a' + i%26)
	}
	for i := 0; i < 200_000; i++ {
		if _, err := f.Write(buf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	f.Close()
	fmt.Println("wrote", 200_000*64, "bytes")
}
