//! The debugger on a test backend: the state at the selected call, the
//! memory view, stepping back and forth.

use super::tests::{assert_shows, find, go_to, lines, render_on};
use crate::app::{App, Message};
use crate::fake::Fake;
use ratatui::style::Color;
use std::sync::atomic::Ordering;

/// The screen at 80x24 once the selected call's state and the memory
/// window are in.
fn settled(app: &mut App<Fake>) -> Vec<String> {
    loop {
        let s = lines(&render_on(app, 80, 24));
        if !app.state.is_computing() && !app.memory_busy() {
            return lines(&render_on(app, 80, 24));
        }
        drop(s);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn send(app: &mut App<Fake>, messages: &[Message]) {
    for m in messages {
        app.update(*m);
    }
}

fn typed(app: &mut App<Fake>, text: &str) {
    for c in text.chars() {
        app.update(Message::PromptChar(c));
    }
}

/// The memory view's rows on screen: the lines between its borders that
/// start with an address.
fn memory_rows(s: &[String]) -> Vec<String> {
    s.iter()
        .filter(|l| l.len() > 10 && l[3..].starts_with("0000"))
        .map(|l| l.trim_matches('│').trim_end().to_string())
        .collect()
}

#[test]
fn the_detail_shows_the_state_when_the_call_returned() {
    let fake = Fake::debugger(100);
    let hold = fake.hold.clone();
    hold.store(true, Ordering::Relaxed);
    let mut app = App::new(fake);
    go_to(&mut app, 5);
    let s = lines(&render_on(&mut app, 140, 40));
    assert_shows(&s, &["result: 0"]);
    let coming = find(&s, "stack and memory: ");
    assert!(
        coming.contains("computing...") || coming.contains("replaying to #5"),
        "{coming}"
    );
    // How far the replay got, once the task says (the fake says half way).
    let reached = "stack and memory: replaying to #5, at #2";
    let says = |app: &mut App<Fake>| {
        let s = lines(&render_on(app, 140, 40));
        s.iter().any(|l| l.contains(reached))
    };
    for _ in 0..10_000 {
        if says(&mut app) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(says(&mut app), "{reached}");
    app.update(Message::Down);
    let s = lines(&render_on(&mut app, 140, 40));
    assert!(
        find(&s, "#6 clock_time_get").contains("│"),
        "the list moves meanwhile"
    );
    let coming = find(&s, "stack and memory: ");
    assert!(
        coming.contains("computing...") || coming.contains("replaying to #6"),
        "{coming}"
    );
    app.update(Message::Up);
    app.update(Message::ToggleMemory);
    let s = lines(&render_on(&mut app, 80, 24));
    assert_shows(&s, &["still being computed..."]);
    assert!(find(&s, " memory when #5 returned (m close) ").starts_with('┌'));
    app.update(Message::ToggleMemory);
    hold.store(false, Ordering::Relaxed);
    settled(&mut app);
    let s = lines(&render_on(&mut app, 140, 40));
    assert_shows(
        &s,
        &[
            "result: 0",
            "stack:",
            "  fake::fd_write",
            "  fake::main",
            "memory when it returned: 4096 bytes (m shows it)",
            "  iovs 0x300:16",
            "  buf 0x10:13",
            "exported globals:",
            "  seq = 5",
        ],
    );
}

#[test]
fn the_memory_view_shows_hex_and_text_goes_to_addresses_and_follows_pointers() {
    let mut app = App::new(Fake::debugger(100));
    go_to(&mut app, 5);
    app.update(Message::ToggleMemory);
    let s = settled(&mut app);
    assert!(find(&s, " memory when #5 returned: 4096 bytes; g address").starts_with('┌'));
    assert_shows(
        &s,
        &[
            "address   00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  text",
            "00000000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................",
            "00000010  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 00 00  hello, world!...",
        ],
    );
    assert_eq!(memory_rows(&s).len(), 19, "the rows that fit at 80x24");
    assert_shows(&s, &["pointer arguments (Tab): iovs 0x300:16  buf 0x10:13"]);

    send(&mut app, &[Message::StartAddress]);
    typed(&mut app, "0x204");
    app.update(Message::PromptSubmit);
    let s = settled(&mut app);
    assert_eq!(app.status, "0x204 at #5");
    assert_eq!(
        memory_rows(&s)[0],
        "00000200  05 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................"
    );

    send(
        &mut app,
        &[Message::FollowPointer(1), Message::FollowPointer(1)],
    );
    let s = settled(&mut app);
    // The pointer's 13 bytes stand out, in hex and as text; the rest not.
    let buf = render_on(&mut app, 80, 24);
    let y = s.iter().position(|l| l.contains("│00000010  68")).unwrap() as u16;
    let colour = |x: u16| buf[(x, y)].fg;
    let hex_at = |i: u16| 11 + i * 3 + if i >= 8 { 1 } else { 0 };
    assert_eq!(colour(hex_at(0)), Color::Yellow, "68");
    assert_eq!(colour(hex_at(12)), Color::Yellow, "21");
    assert_eq!(colour(hex_at(13)), Color::Reset, "00 after it");
    assert_eq!(colour(61), Color::Yellow, "h");
    assert_eq!(colour(61 + 13), Color::Reset, ".");
    assert_eq!(
        app.status,
        "buf at 0x10, 13 bytes (pointer argument 2 of 2; Tab: next)"
    );
    assert_eq!(
        memory_rows(&s)[0],
        "00000010  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 00 00  hello, world!..."
    );
    app.update(Message::FollowPointer(1));
    assert!(app
        .status
        .starts_with("iovs at 0x300, 16 bytes (pointer argument 1 of 2"));
}

#[test]
fn the_memory_view_scrolls_and_refuses_addresses_past_the_end() {
    let mut app = App::new(Fake::debugger(100));
    go_to(&mut app, 5);
    app.update(Message::ToggleMemory);
    settled(&mut app);
    send(&mut app, &[Message::StartAddress]);
    typed(&mut app, "0x300");
    app.update(Message::PromptSubmit);
    app.update(Message::ScrollMemory(-1));
    let s = settled(&mut app);
    assert!(memory_rows(&s)[0].starts_with("000002f0  "), "a row up");
    app.update(Message::PageMemory(100));
    let s = settled(&mut app);
    let rows = memory_rows(&s);
    assert!(rows[0].starts_with("00000ed0  "), "the last page: {rows:?}");
    assert!(rows.last().unwrap().starts_with("00000ff0  "));

    send(&mut app, &[Message::StartAddress]);
    typed(&mut app, "4096");
    app.update(Message::PromptSubmit);
    assert_eq!(
        app.status,
        "0x1000 is past the end of the guest's memory at #5: 4096 bytes (0x1000)"
    );
    send(&mut app, &[Message::StartAddress]);
    typed(&mut app, "0xzz");
    app.update(Message::PromptSubmit);
    assert_eq!(
        app.status,
        "\"0xzz\" is not an address (decimal, or hex with 0x)"
    );
    app.update(Message::Quit);
    assert!(!app.memory.open && !app.quit, "q closes the view");
}

#[test]
fn a_call_without_pointers_says_so() {
    let mut app = App::new(Fake::debugger(100));
    go_to(&mut app, 1);
    app.update(Message::ToggleMemory);
    settled(&mut app);
    app.update(Message::FollowPointer(1));
    assert_eq!(app.status, "#1 has no pointer arguments");
}

#[test]
fn stepping_back_and_forth_lands_on_the_same_state() {
    let mut app = App::new(Fake::debugger(100));
    let mut seen = Vec::new();
    for seq in [14, 3, 14, 20, 3] {
        go_to(&mut app, seq);
        settled(&mut app);
        let detail = lines(&render_on(&mut app, 140, 40));
        app.update(Message::ToggleMemory);
        send(&mut app, &[Message::StartAddress]);
        typed(&mut app, "0x200");
        app.update(Message::PromptSubmit);
        let rows = memory_rows(&settled(&mut app));
        app.update(Message::ToggleMemory);
        let stack: Vec<String> = detail
            .iter()
            .filter(|l| l.contains("fake::") || l.contains("seq = "))
            .map(|l| {
                l[l.find("  ").unwrap()..]
                    .trim_end_matches([' ', '│'])
                    .to_string()
            })
            .collect();
        seen.push((seq, stack, rows[0].clone()));
    }
    assert_eq!(seen[0], seen[2], "#14, then #3, then #14 again");
    assert_eq!(seen[1], seen[4], "#3 twice");
    assert_ne!(seen[0].1, seen[1].1);
    assert_eq!(
        seen[0].2,
        "00000200  0e 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................"
    );
    assert_eq!(
        seen[1].2,
        "00000200  03 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................"
    );
}

#[test]
fn continuing_with_the_memory_view_open_shows_each_stop_s_memory() {
    let fake = Fake::debugger(100);
    let hold = fake.hold.clone();
    hold.store(true, Ordering::Relaxed);
    let mut app = App::new(fake);
    app.update(Message::StartBreakpoint);
    typed(&mut app, "fd_write");
    app.update(Message::PromptSubmit);
    render_on(&mut app, 80, 24);
    app.update(Message::ToggleMemory);
    app.update(Message::StartAddress);
    typed(&mut app, "0x200");
    app.update(Message::PromptSubmit);
    assert_eq!(app.status, "the memory at #0 is still being computed");
    hold.store(false, Ordering::Relaxed);
    settled(&mut app);
    app.update(Message::StartAddress);
    typed(&mut app, "0x200");
    app.update(Message::PromptSubmit);
    let mut rows = Vec::new();
    for m in [Message::Continue, Message::Continue, Message::ContinueBack] {
        app.update(m);
        while app.job.is_some() {
            settled(&mut app);
        }
        rows.push(memory_rows(&settled(&mut app))[0].clone());
    }
    assert_eq!(app.selected_seq(), Some(5));
    assert!(app.memory.open, "the view stays open");
    assert_eq!(
        rows,
        [
            "00000200  05 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................",
            "00000200  0a 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................",
            "00000200  05 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  ................",
        ]
    );
}
