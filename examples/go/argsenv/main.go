// argsenv prints its arguments and two environment variables, then exits
// with the code given as its first argument.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	for i, a := range os.Args[1:] {
		fmt.Printf("arg %d: %q\n", i+1, a)
	}
	for _, name := range []string{"GREETING", "UNSET_VARIABLE"} {
		v, ok := os.LookupEnv(name)
		fmt.Printf("%s set=%v value=%q\n", name, ok, v)
	}
	code := 0
	if len(os.Args) > 1 {
		code, _ = strconv.Atoi(os.Args[1])
	}
	fmt.Fprintln(os.Stderr, "exiting with", code)
	os.Exit(code)
}
