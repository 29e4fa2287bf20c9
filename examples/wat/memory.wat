;; For the debugger's tests (replay --until/--memory, --watch, --break):
;; known bytes at known addresses, written by the guest between calls and
;; by the host in them.
;;
;;   #0 fd_write(1, "one\n")      then $fill writes 88 77 66 55 44 33 22 11 at 0x200
;;   #1 random_get(0x300, 4)      the host writes 4 random bytes at 0x300
;;                                then $mark writes ef be ad de at 0x204
;;   #2 fd_write(1, "two\n")
;;   #3 fd_write(2, "three\n")
;;   #4 fd_write(1, "one\n")
;;   #5 path_open(3, "config.toml") fails (no preopens): EBADF
;;                                then $last writes 2a at 0x400; _start returns
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get"
    (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $stage (export "stage") (mut i32) (i32.const 0))
  (global $magic (export "magic") i64 (i64.const 0x1122334455667788))
  (data (i32.const 0x100) "one\n")
  (data (i32.const 0x108) "two\n")
  (data (i32.const 0x110) "three\n")
  (data (i32.const 0x120) "config.toml")
  ;; One fd_write of len bytes at buf, through the iovec at 0x10.
  (func $say (param $fd i32) (param $buf i32) (param $len i32)
    (i32.store (i32.const 0x10) (local.get $buf))
    (i32.store (i32.const 0x14) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0x10) (i32.const 1) (i32.const 0x18))))
  (func $fill
    (i64.store (i32.const 0x200) (i64.const 0x1122334455667788))
    (global.set $stage (i32.const 1)))
  (func $mark
    (i32.store (i32.const 0x204) (i32.const 0xdeadbeef))
    (global.set $stage (i32.const 2)))
  (func $last
    (i32.store8 (i32.const 0x400) (i32.const 0x2a)))
  (func $main (export "_start")
    (call $say (i32.const 1) (i32.const 0x100) (i32.const 4))
    (call $fill)
    (drop (call $random_get (i32.const 0x300) (i32.const 4)))
    (call $mark)
    (call $say (i32.const 1) (i32.const 0x108) (i32.const 4))
    (call $say (i32.const 2) (i32.const 0x110) (i32.const 6))
    (call $say (i32.const 1) (i32.const 0x100) (i32.const 4))
    (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 0x120) (i32.const 11)
      (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0x20)))
    (call $last)))
