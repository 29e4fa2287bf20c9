// goroutines: workers, channels, a WaitGroup and a mutex; deterministic output.
package main

import (
	"fmt"
	"sort"
	"sync"
)

func main() {
	jobs := make(chan int)
	results := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := 1; w <= 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for j := range jobs {
				mu.Lock()
				total += j * j
				mu.Unlock()
				results <- fmt.Sprintf("job %02d squared is %d", j, j*j)
			}
		}(w)
	}
	go func() {
		for j := 1; j <= 12; j++ {
			jobs <- j
		}
		close(jobs)
	}()
	go func() { wg.Wait(); close(results) }()
	lines := []string{}
	for r := range results {
		lines = append(lines, r)
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println("sum of squares:", total)
}
