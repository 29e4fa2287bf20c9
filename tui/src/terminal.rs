//! The event loop on a real terminal. `ratatui::init` puts the terminal in
//! raw mode on the alternate screen and installs a panic hook that restores
//! it; `ratatui::restore` undoes it on every way out.

use crate::app::App;
use crate::keys::message_for;
use crate::source::TraceSource;
use crate::view::draw;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use std::io;
use std::time::Duration;

pub fn run<S: TraceSource>(source: S) -> io::Result<()> {
    let mut terminal = ratatui::init();
    let _ = execute!(io::stdout(), EnableMouseCapture);
    let result = event_loop(&mut terminal, App::new(source));
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

fn event_loop<S: TraceSource>(
    terminal: &mut ratatui::DefaultTerminal,
    mut app: App<S>,
) -> io::Result<()> {
    while !app.quit {
        let size = terminal.size()?;
        app.refresh_screen(Rect::new(0, 0, size.width, size.height));
        terminal.draw(|f| draw(&app, f))?;
        // While work runs in the background (the timeline, a search, a
        // filter, a stack), wake up to show how far it got.
        let wait = if app.busy() {
            Duration::from_millis(if app.density.is_none() { 10 } else { 50 })
        } else {
            Duration::from_secs(3600)
        };
        if event::poll(wait)? {
            let ev = event::read()?;
            if let Some(msg) = message_for(&ev, app.mode()) {
                app.update(msg);
            }
        }
    }
    Ok(())
}
