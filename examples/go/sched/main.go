// sched stresses the scheduler: a ticker, timers, select with timeouts,
// goroutines sleeping random durations and a busy loop on the clock. What
// it prints depends on random values and timing, so only a faithful replay
// prints it again.
package main

import (
	"fmt"
	"math/rand"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	order := []int{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			time.Sleep(time.Duration(rand.Intn(20)) * time.Millisecond)
			mu.Lock()
			order = append(order, g)
			mu.Unlock()
		}(g)
	}

	ticker := time.NewTicker(3 * time.Millisecond)
	ticks := 0
	timeout := time.After(40 * time.Millisecond)
	timer := time.NewTimer(15 * time.Millisecond)
	timerFired := false
loop:
	for {
		select {
		case <-ticker.C:
			ticks++
		case <-timer.C:
			timerFired = true
		case <-timeout:
			break loop
		}
	}
	ticker.Stop()
	wg.Wait()

	spins := 0
	deadline := time.Now().Add(5 * time.Millisecond)
	for time.Now().Before(deadline) {
		spins++
	}

	ch := make(chan int)
	go func() { time.Sleep(time.Duration(rand.Intn(4)) * time.Millisecond); ch <- 1 }()
	got := "timeout"
	select {
	case <-ch:
		got = "value"
	case <-time.After(2 * time.Millisecond):
	}
	fmt.Println("wake order:", order)
	fmt.Println("ticks:", ticks, "timer fired:", timerFired)
	fmt.Println("busy-loop clock reads:", spins)
	fmt.Println("select got:", got)
}
