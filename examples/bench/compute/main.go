// compute: compute-heavy, almost no host calls. sha256 over 200 MB of
// generated data.
package main

import (
	"crypto/sha256"
	"fmt"
)

func main() {
	h := sha256.New()
	block := make([]byte, 1<<20)
	for i := range block {
		block[i] = byte(i * 7)
	}
	for i := 0; i < 200; i++ {
		block[0] = byte(i)
		h.Write(block)
	}
	fmt.Printf("sha256 %x\n", h.Sum(nil))
}
