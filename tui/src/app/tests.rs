//! The model's update function, without a screen.
use super::*;
use crate::fake::Fake;
use crate::filter_menu::FilterMenu;

fn app(n: u64) -> App<Fake> {
    let mut a = App::new(Fake::new(n));
    a.refresh(10);
    a
}

fn send(a: &mut App<Fake>, messages: impl IntoIterator<Item = Message>) {
    for m in messages {
        a.update(m);
    }
}

fn active(a: &App<Fake>) -> Option<&str> {
    a.filter.as_ref().map(|f| f.expr.as_str())
}

fn typed(text: &str) -> Vec<Message> {
    text.chars().map(Message::PromptChar).collect()
}

/// Refreshes until the background job is done, as the event loop does.
fn settle(a: &mut App<Fake>) {
    while a.job.is_some() {
        std::thread::sleep(std::time::Duration::from_millis(1));
        a.refresh(10);
    }
}

#[test]
fn moving_keeps_the_selection_on_screen() {
    let mut a = app(100);
    a.update(Message::Down);
    a.update(Message::Down);
    assert_eq!(a.selected, 2);
    a.update(Message::PageDown);
    a.refresh(10);
    assert_eq!((a.selected, a.offset), (12, 3));
    a.update(Message::Last);
    a.refresh(10);
    assert_eq!((a.selected, a.offset), (99, 90));
    assert_eq!(a.visible.first().unwrap().seq, 90);
    a.update(Message::First);
    assert_eq!((a.selected, a.offset), (0, 0));
    a.update(Message::Up);
    assert_eq!(a.selected, 0, "no row before the first");
}

#[test]
fn goto_and_search() {
    let mut a = app(100);
    send(&mut a, [Message::StartGoto]);
    send(&mut a, typed("42"));
    send(&mut a, [Message::PromptSubmit]);
    assert_eq!(a.selected_seq(), Some(42));
    send(
        &mut a,
        [
            Message::StartGoto,
            Message::PromptChar('x'),
            Message::PromptSubmit,
        ],
    );
    assert_eq!(a.status, "\"x\" is not a call number");
    send(&mut a, [Message::StartGoto]);
    send(&mut a, typed("#100"));
    send(&mut a, [Message::PromptSubmit]);
    assert_eq!(a.status, "there is no call #100: the last is #99");
    send(&mut a, [Message::StartSearch]);
    send(&mut a, typed("path"));
    send(&mut a, [Message::PromptSubmit]);
    assert!(a.job.is_some(), "the search runs in the background");
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(49));
    assert_eq!(a.status, "#49 matches \"path\"");
    a.update(Message::NextMatch);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(56));
    a.update(Message::PrevMatch);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(49));
}

#[test]
fn a_search_that_wraps_around_says_so() {
    let mut a = app(100);
    send(&mut a, [Message::Last, Message::StartSearch]);
    send(&mut a, typed("fd_write"));
    send(&mut a, [Message::PromptSubmit]);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(0));
    assert_eq!(
        a.status,
        "search wrapped to the top: #0 matches \"fd_write\""
    );
    a.update(Message::PrevMatch);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(95));
    assert_eq!(
        a.status,
        "search wrapped to the bottom: #95 matches \"fd_write\""
    );
    a.update(Message::PrevMatch);
    settle(&mut a);
    assert_eq!(a.status, "#90 matches \"fd_write\"", "no wrap, no notice");
}

#[test]
fn a_cancelled_search_leaves_the_selection_where_it_was() {
    let mut a = app(100);
    send(&mut a, [Message::StartGoto]);
    send(&mut a, typed("42"));
    send(&mut a, [Message::PromptSubmit, Message::StartSearch]);
    send(&mut a, typed(crate::fake::ENDLESS));
    send(&mut a, [Message::PromptSubmit]);
    a.refresh(10);
    assert!(a.job.is_some());
    send(&mut a, [Message::Down, Message::Up]);
    assert_eq!(a.selected_seq(), Some(42), "the list moves while it runs");
    a.update(Message::Escape);
    assert!(a.job.is_none());
    assert!(!a.quit, "Esc stopped the search, it did not quit");
    assert!(
        a.status.starts_with("search for \"endless\" stopped at "),
        "{}",
        a.status
    );
    a.refresh(10);
    assert_eq!(a.selected_seq(), Some(42));
}

#[test]
fn the_filter_prompt_completes_and_applies_what_dump_takes() {
    let mut a = app(100);
    send(&mut a, [Message::StartGoto]);
    send(&mut a, typed("49"));
    send(&mut a, [Message::PromptSubmit, Message::OpenFilters]);
    assert_eq!(a.mode(), Mode::FilterMenu);
    send(&mut a, typed("%f"));
    send(&mut a, [Message::MenuComplete]);
    assert_eq!(a.overlay, Overlay::Filter(FilterMenu::new("%fd")));
    a.update(Message::MenuChoose);
    settle(&mut a);
    assert_eq!(a.mode(), Mode::Browse);
    assert_eq!(active(&a), Some("%fd"));
    assert_eq!(a.status, "filter %fd: 20 calls (f: change)");
    assert_eq!(a.count(), 20);
    assert_eq!(a.selected_seq(), Some(50), "the next fd call after #49");

    a.update(Message::OpenFilters);
    assert_eq!(
        a.overlay,
        Overlay::Filter(FilterMenu::new("%fd")),
        "the filter in force"
    );
    send(&mut a, [Message::PromptBackspace; 3]);
    send(&mut a, typed("--"));
    send(&mut a, [Message::MenuDown, Message::MenuChoose]);
    settle(&mut a);
    assert_eq!(active(&a), Some("--failed"), "picked from the list");
    assert_eq!(a.selected_seq(), Some(56));

    a.update(Message::OpenFilters);
    send(&mut a, typed(" zz"));
    a.update(Message::MenuChoose);
    let Overlay::Filter(menu) = &a.overlay else {
        panic!("a bad filter keeps the prompt open");
    };
    assert_eq!(
        menu.error.as_deref(),
        Some("unknown filter \"--failed zz\"")
    );
    a.update(Message::MenuClose);
    assert_eq!(active(&a), Some("--failed"), "closing changes nothing");

    a.update(Message::OpenFilters);
    send(&mut a, [Message::PromptBackspace; 8]);
    a.update(Message::MenuChoose);
    assert_eq!(a.filter, None, "nothing typed: every call");
    assert_eq!(a.count(), 100);
    assert_eq!(a.selected_seq(), Some(56));
}

#[test]
fn a_search_match_the_filter_hides_clears_the_filter() {
    let mut a = app(100);
    a.update(Message::OpenFilters);
    send(&mut a, typed("%fd"));
    a.update(Message::MenuChoose);
    settle(&mut a);
    send(&mut a, [Message::StartSearch, Message::PromptChar('c')]);
    send(&mut a, [Message::PromptSubmit]);
    settle(&mut a);
    assert_eq!(a.filter, None);
    assert_eq!(a.selected_seq(), Some(1));
    assert_eq!(
        a.status,
        "#1 matches \"c\" but is not in the %fd filter: filter cleared"
    );
}

#[test]
fn quit_closes_an_overlay_first_and_exit_quits_at_once() {
    let mut a = app(10);
    a.update(Message::ToggleStats);
    assert!(matches!(a.overlay, Overlay::Stats(..)));
    a.update(Message::Quit);
    assert_eq!(a.overlay, Overlay::None);
    assert!(!a.quit);
    a.update(Message::Escape);
    assert!(a.quit, "Esc with nothing running quits");

    let mut a = app(10);
    send(&mut a, [Message::ToggleHelp, Message::Exit]);
    assert!(a.quit);
}

fn breakpoint(a: &mut App<Fake>, expr: &str) {
    a.update(Message::StartBreakpoint);
    send(a, typed(expr));
    a.update(Message::PromptSubmit);
}

#[test]
fn continuing_forward_and_back_lands_on_the_calls_breakpoints_match() {
    let mut a = app(100);
    a.update(Message::Continue);
    assert_eq!(a.status, "no breakpoints: b sets one");
    breakpoint(&mut a, "path_open");
    assert_eq!(
        a.status,
        "breakpoint 1: path_open (c: continue, C: back, B: list)"
    );
    let mut went = Vec::new();
    for m in [Message::Continue, Message::Continue, Message::ContinueBack] {
        a.update(m);
        assert!(a.job.is_some(), "continues run in the background");
        settle(&mut a);
        went.push(a.selected_seq().unwrap());
    }
    assert_eq!(went, [7, 14, 7]);
    assert_eq!(a.status, "breakpoint 1 (path_open) at #7");
    a.update(Message::ContinueBack);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(7));
    assert_eq!(a.status, "no breakpoint matches a call before #7");

    // when=3 counts from the start of the trace: fd_write's third is #10.
    breakpoint(&mut a, "fd_write when=3");
    send(&mut a, [Message::First, Message::Continue]);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(7), "path_open at #7 comes first");
    a.update(Message::Continue);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(10));
    assert_eq!(a.status, "breakpoint 2 (fd_write when=3) at #10");
    send(&mut a, [Message::Last, Message::ContinueBack]);
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(91), "the last path_open");
}

#[test]
fn breakpoints_are_checked_listed_and_deleted() {
    let mut a = app(100);
    breakpoint(&mut a, "teleport fd=2");
    assert_eq!(a.status, "bad breakpoint: unknown function \"teleport\"");
    assert!(a.breakpoints.is_empty());
    breakpoint(&mut a, "path_open");
    breakpoint(&mut a, "fd_write");
    breakpoint(&mut a, "path_open");
    assert_eq!(a.status, "breakpoint \"path_open\" is already set");
    a.update(Message::ToggleBreakpoints);
    assert_eq!(a.mode(), Mode::Breakpoints);
    send(&mut a, [Message::MenuDown, Message::MenuDown]);
    assert_eq!(a.overlay, Overlay::Breakpoints { cursor: 1 });
    a.update(Message::DeleteBreakpoint);
    assert_eq!(a.breakpoints, ["path_open"]);
    assert_eq!(a.status, "breakpoint \"fd_write\" deleted");
    a.update(Message::Continue);
    assert_eq!(a.overlay, Overlay::None, "c closes the list and continues");
    settle(&mut a);
    assert_eq!(a.selected_seq(), Some(7));
}

#[test]
fn esc_cancels_a_running_continue() {
    let mut a = app(100);
    send(&mut a, [Message::StartGoto]);
    send(&mut a, typed("42"));
    a.update(Message::PromptSubmit);
    breakpoint(&mut a, crate::fake::ENDLESS);
    a.update(Message::Continue);
    a.refresh(10);
    assert!(a.job.is_some());
    a.update(Message::Escape);
    assert!(a.job.is_none() && !a.quit);
    assert!(
        a.status.starts_with("continue to a breakpoint stopped at "),
        "{}",
        a.status
    );
    a.refresh(10);
    assert_eq!(a.selected_seq(), Some(42), "the selection stays");
}

#[test]
fn without_states_the_memory_view_says_there_is_no_memory() {
    let mut a = app(10);
    send(&mut a, [Message::ToggleMemory, Message::FollowPointer(1)]);
    assert!(a.memory.open);
    assert_eq!(a.status, "this trace has no memory to show");
}
