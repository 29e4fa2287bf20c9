;; argsenv: reads its arguments and environment (args_sizes_get, args_get,
;; environ_sizes_get, environ_get) and prints them, one per line, then exits
;; with its argument count. The second fd_write hands the host an empty
;; buffer as well: the trace records that zero-length range too
;; (traces/argsenv.wtrace).
;;
;;   wtrace record --env GREETING=hello --env EMPTY= -o traces/argsenv.wtrace examples/wat/argsenv.wat one "two words"
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  ;; 0: argc, 4: argv_buf_size, 8: environc, 12: environ_buf_size,
  ;; 16: two iovecs, 32: nwritten, 0x100: pointer arrays, 0x1000: argv
  ;; strings, 0x2000: environ strings
  (func $nul_to_newline (param $p i32) (param $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (if (i32.eqz (i32.load8_u (local.get $p)))
          (then (i32.store8 (local.get $p) (i32.const 10))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next))))
  ;; fd_write(1, [{buf, n}, {0x3000, 0}], &nwritten)
  (func $print (param $buf i32) (param $n i32)
    (i32.store (i32.const 16) (local.get $buf))
    (i32.store (i32.const 20) (local.get $n))
    (i32.store (i32.const 24) (i32.const 0x3000))
    (i32.store (i32.const 28) (i32.const 0))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 32))))
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (drop (call $args_get (i32.const 0x100) (i32.const 0x1000)))
    (call $nul_to_newline (i32.const 0x1000) (i32.load (i32.const 4)))
    (call $print (i32.const 0x1000) (i32.load (i32.const 4)))
    (drop (call $environ_sizes_get (i32.const 8) (i32.const 12)))
    (drop (call $environ_get (i32.const 0x200) (i32.const 0x2000)))
    (call $nul_to_newline (i32.const 0x2000) (i32.load (i32.const 12)))
    (call $print (i32.const 0x2000) (i32.load (i32.const 12)))
    (call $proc_exit (i32.load (i32.const 0)))))
