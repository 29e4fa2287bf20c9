// random prints values from math/rand (seeded by the runtime from
// random_get) and crypto/rand: different on every run, identical on replay.
package main

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand"
)

func main() {
	fmt.Println("math/rand:", mrand.Intn(1_000_000), mrand.Int63(), mrand.Float64())
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	fmt.Printf("crypto/rand: %x\n", b)
	m := map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true}
	order := []int{}
	for k := range m {
		order = append(order, k)
	}
	fmt.Println("map order:", order)
}
