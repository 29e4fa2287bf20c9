// clock: clock-heavy. N calls of time.Now (each is two clock_time_get
// calls: REALTIME and MONOTONIC), 1,000,000 by default = 2 million host calls.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 1_000_000
	if len(os.Args) > 1 {
		n, _ = strconv.Atoi(os.Args[1])
	}
	var sum int64
	for i := 0; i < n; i++ {
		sum += time.Now().UnixNano() & 1
	}
	fmt.Println("calls:", n, "odd:", sum > 0 || sum == 0)
}
