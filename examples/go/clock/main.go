// clock reads the clock and sleeps three times; it prints only facts that
// hold on every run, so run, record and replay print the same.
package main

import (
	"fmt"
	"time"
)

func main() {
	start := time.Now()
	for i := 0; i < 3; i++ {
		t := time.Now()
		time.Sleep(200 * time.Millisecond)
		fmt.Printf("sleep %d lasted at least 200ms: %v\n", i+1, time.Since(t) >= 200*time.Millisecond)
	}
	fmt.Println("600ms passed in all:", time.Since(start) >= 600*time.Millisecond)
	fmt.Println("the year is after 2020:", start.Year() > 2020)
}
