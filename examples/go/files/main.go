// files works in a preopened directory (its first argument): creates,
// appends, reads back, renames, lists, makes and removes a directory.
//
//	wtrace record --dir ./scratch::/work files.wasm /work
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func main() {
	dir := os.Args[1]
	notes := filepath.Join(dir, "notes.txt")
	check(os.WriteFile(notes, []byte("first line\n"), 0o644))
	f, err := os.OpenFile(notes, os.O_APPEND|os.O_WRONLY, 0)
	check(err)
	_, err = f.WriteString("second line\n")
	check(err)
	check(f.Close())
	data, err := os.ReadFile(notes)
	check(err)
	fmt.Printf("notes.txt has %d bytes: %q\n", len(data), data)

	check(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	check(os.Rename(notes, filepath.Join(dir, "sub", "renamed.txt")))
	check(os.WriteFile(filepath.Join(dir, "sub", "empty"), nil, 0o644))
	if _, err := os.Stat(notes); os.IsNotExist(err) {
		fmt.Println("notes.txt is gone after the rename")
	}

	entries, err := os.ReadDir(filepath.Join(dir, "sub"))
	check(err)
	names := []string{}
	for _, e := range entries {
		info, err := e.Info()
		check(err)
		names = append(names, fmt.Sprintf("%s (%d bytes)", e.Name(), info.Size()))
	}
	sort.Strings(names)
	fmt.Println("sub holds:", names)

	check(os.Remove(filepath.Join(dir, "sub", "empty")))
	err = os.Remove(filepath.Join(dir, "sub"))
	fmt.Println("removing a non-empty directory fails:", err != nil)
	_, err = os.ReadFile(filepath.Join(dir, "missing.txt"))
	fmt.Println("reading a missing file fails:", os.IsNotExist(err))
	check(os.WriteFile(filepath.Join(dir, "result.txt"), []byte("done\n"), 0o600))
}
