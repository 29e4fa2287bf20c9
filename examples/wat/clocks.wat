;; clocks: asks both clocks' resolution twice, reads the realtime and the
;; monotonic clock in turn, 500 times each (as Go's time.Now does), then
;; writes one line on stdout; _start returns (exit 0). In format version 5
;; each repeated 8-byte result is stored as how far it moved beyond the
;; time between the two calls (a resolution, which stays, by minus that
;; time): a sample trace for readers of the format (traces/clocks-v5.wtrace).
;;
;;   wtrace record -o traces/clocks-v5.wtrace examples/wat/clocks.wat
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: iovec, 8: nwritten, 16: realtime, 24: monotonic, 32: resolution,
  ;; 64: the line
  (data (i32.const 64) "1000 clock readings\n")
  (func (export "_start")
    (local $i i32)
    (drop (call $clock_res_get (i32.const 0) (i32.const 32)))
    (drop (call $clock_res_get (i32.const 1) (i32.const 32)))
    (drop (call $clock_res_get (i32.const 0) (i32.const 32)))
    (drop (call $clock_res_get (i32.const 1) (i32.const 32)))
    (loop $again
      (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 16)))
      (drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 24)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 500))))
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 20))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
