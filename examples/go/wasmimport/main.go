// wasmimport calls a host function of module "env" through //go:wasmimport:
// a host must provide it. wtrace serves WASI preview1 only, so it says which
// import is missing before running; with --trap-unknown-imports the call
// traps and the trace records where it happened.
package main

import "fmt"

//go:wasmimport env host_add
func hostAdd(a, b int32) int32

func main() {
	fmt.Println("calling env.host_add")
	fmt.Println("2 + 40 =", hostAdd(2, 40))
}
