// sched: scheduler-heavy. 2,000 goroutines each sleep 10 times for 1-5 ms
// (random), so the runtime sleeps and wakes through poll_oneoff constantly.
package main

import (
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	var wg sync.WaitGroup
	var wakes atomic.Int64
	for g := 0; g < 2000; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed))
			for i := 0; i < 10; i++ {
				time.Sleep(time.Duration(1+r.Intn(5)) * time.Millisecond)
				wakes.Add(1)
			}
		}(int64(g))
	}
	wg.Wait()
	fmt.Println("wakes:", wakes.Load())
}
