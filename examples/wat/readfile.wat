;; readfile: opens greeting.txt in the first preopened directory (fd 3),
;; copies it to stdout, tries a file that does not exist (ENOENT), reads the
;; clock and 8 random bytes, and exits with the number of bytes read modulo
;; 100. Needs no Go: the demo and the tests run it directly as .wat.
;;
;;   wtrace record --dir examples/data::/data examples/wat/readfile.wat
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: scratch (fd, nread, nwritten), 16: iovec, 64: time, 72: random
  (data (i32.const 128) "greeting.txt")
  (data (i32.const 144) "missing.txt")
  (data (i32.const 160) "could not open greeting.txt\n")
  (func (export "_start")
    (local $fd i32) (local $n i32)
    (drop (call $clock_time_get (i32.const 0) (i64.const 1000) (i32.const 64)))
    (drop (call $random_get (i32.const 72) (i32.const 8)))
    ;; path_open(3, SYMLINK_FOLLOW, "greeting.txt", 0, FD_READ|FD_SEEK, 0, 0, &fd)
    (if (call $path_open (i32.const 3) (i32.const 1) (i32.const 128) (i32.const 12)
          (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 0))
      (then
        (i32.store (i32.const 16) (i32.const 160))
        (i32.store (i32.const 20) (i32.const 28))
        (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 8)))
        (call $proc_exit (i32.const 1))))
    (local.set $fd (i32.load (i32.const 0)))
    ;; fd_read(fd, [{1024, 4096}], &nread)
    (i32.store (i32.const 16) (i32.const 1024))
    (i32.store (i32.const 20) (i32.const 4096))
    (drop (call $fd_read (local.get $fd) (i32.const 16) (i32.const 1) (i32.const 4)))
    (local.set $n (i32.load (i32.const 4)))
    ;; fd_write(1, [{1024, n}], &nwritten)
    (i32.store (i32.const 20) (local.get $n))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 8)))
    (drop (call $fd_close (local.get $fd)))
    ;; A file that is not there: ENOENT, shown by `wtrace dump --failed`.
    (drop (call $path_open (i32.const 3) (i32.const 1) (i32.const 144) (i32.const 11)
          (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0)))
    (call $proc_exit (i32.rem_u (local.get $n) (i32.const 100)))))
