;; foreign: imports two functions from the module "env", which wtrace does
;; not serve. With --trap-unknown-imports they are defined as functions that
;; trap when called: the trace's header lists them (foreign_imports, ids
;; 0x8000 and 0x8001), and the call to env::host_log is recorded with its raw
;; arguments (an i32, an i64, an f32 and an f64 as their bits) before it
;; traps. wtrace exits 134 (traces/foreign.wtrace).
;;
;;   wtrace record --trap-unknown-imports -o traces/foreign.wtrace examples/wat/foreign.wat
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "host_init" (func $host_init))
  (import "env" "host_log" (func $host_log (param i32 i64 f32 f64)))
  (memory (export "memory") 1)
  ;; 0: iovec, 8: nwritten, 64: the line
  (data (i32.const 64) "calling env::host_log\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 22))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $host_log (i32.const 300) (i64.const -2) (f32.const 1.5) (f64.const 3.141592653589793))))
