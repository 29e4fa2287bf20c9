// panic ends with a Go panic: exit code 2 and the panic message on stderr.
package main

import "fmt"

func divide(a, b int) int { return a / b }

func main() {
	fmt.Println("about to divide by zero")
	zero := 0
	fmt.Println(divide(1, zero))
}
