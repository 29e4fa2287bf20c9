// walk: a read-heavy real program, like a recursive grep. Walks a source
// tree (argument; the bench script passes Go's own src, 100+ MB in 10,000+
// files), reads every file and counts the lines that contain "func ".
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func main() {
	root := os.Args[1]
	var files, lines, matches int
	var size int64
	needle := []byte("func ")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		files++
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 64*1024), 16*1024*1024)
		for s.Scan() {
			line := s.Bytes()
			size += int64(len(line)) + 1
			lines++
			if bytes.Contains(line, needle) {
				matches++
			}
		}
		return s.Err()
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d files, %d bytes, %d lines, %d with %q\n", files, size, lines, matches, needle)
}
