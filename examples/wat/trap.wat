;; trap: writes a line, reads the clock, then hits `unreachable`. The run
;; ends in a trap: wtrace exits 134 (as `wasmtime run`), and the trace's end
;; record says Trap with the message and the wasm backtrace
;; (traces/trap.wtrace).
;;
;;   wtrace record -o traces/trap.wtrace examples/wat/trap.wat
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: iovec, 8: nwritten, 16: time, 64: the line
  (data (i32.const 64) "about to trap\n")
  (func $fail
    unreachable)
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 14))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $clock_time_get (i32.const 0) (i64.const 1000) (i32.const 16)))
    (call $fail)))
