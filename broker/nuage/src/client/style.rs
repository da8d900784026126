//! Colour: only on a terminal, never with `NO_COLOR` (or `TERM=dumb`), unless `--color always`.

use super::args::ColorMode;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether to colour, given the flag, whether standard output is a terminal, and the
/// environment's `NO_COLOR` and `TERM`.
pub(crate) fn decide(
    mode: ColorMode,
    stdout_is_terminal: bool,
    no_color: Option<&str>,
    term: Option<&str>,
) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => {
            stdout_is_terminal && no_color.is_none_or(str::is_empty) && term != Some("dumb")
        }
    }
}

/// Decides once for the process, from the flag and the real terminal and environment.
pub(crate) fn init(mode: ColorMode) {
    let on = decide(
        mode,
        std::io::stdout().is_terminal(),
        std::env::var("NO_COLOR").ok().as_deref(),
        std::env::var("TERM").ok().as_deref(),
    );
    ENABLED.store(on, Ordering::Relaxed);
    console::set_colors_enabled(on);
    console::set_colors_enabled_stderr(on);
}

/// Whether output is coloured.
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// How a state word reads: good, bad, busy or neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Done and well.
    Good,
    /// Failed, or needs someone.
    Bad,
    /// Moving.
    Busy,
    /// Anything else.
    Plain,
}

/// The tone of a request, workflow or step state.
pub(crate) fn tone(state: &str) -> Tone {
    match state {
        "ready" | "succeeded" | "deleted" | "compensated" | "intact" | "active" => Tone::Good,
        "failed"
        | "delete_failed"
        | "compensation_failed"
        | "rolled_back"
        | "cancelled"
        | "revoked"
        | "broken" => Tone::Bad,
        "accepted" | "provisioning" | "running" | "pending" | "deleting" | "rolling_back"
        | "cancelling" | "compensating" => Tone::Busy,
        _ => Tone::Plain,
    }
}

/// Paints text in a tone (no-op without colour).
pub(crate) fn paint(text: &str, t: Tone) -> String {
    if !enabled() {
        return text.to_owned();
    }
    let s = console::Style::new().force_styling(true);
    let s = match t {
        Tone::Good => s.green(),
        Tone::Bad => s.red().bold(),
        Tone::Busy => s.yellow(),
        Tone::Plain => return text.to_owned(),
    };
    s.apply_to(text).to_string()
}

/// Dims text (no-op without colour).
pub(crate) fn dim(text: &str) -> String {
    if enabled() {
        console::Style::new()
            .force_styling(true)
            .dim()
            .apply_to(text)
            .to_string()
    } else {
        text.to_owned()
    }
}

/// Bold text (no-op without colour).
pub(crate) fn bold(text: &str) -> String {
    if enabled() {
        console::Style::new()
            .force_styling(true)
            .bold()
            .apply_to(text)
            .to_string()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(decide(ColorMode::Auto, true, None, Some("xterm")));
        assert!(!decide(ColorMode::Auto, false, None, Some("xterm")));
        assert!(!decide(ColorMode::Auto, true, Some("1"), Some("xterm")));
        assert!(decide(ColorMode::Auto, true, Some(""), Some("xterm")));
        assert!(!decide(ColorMode::Auto, true, None, Some("dumb")));
        assert!(decide(ColorMode::Always, false, Some("1"), None));
        assert!(!decide(ColorMode::Never, true, None, None));
    }

    #[test]
    fn states_have_tones() {
        assert_eq!(tone("ready"), Tone::Good);
        assert_eq!(tone("failed"), Tone::Bad);
        assert_eq!(tone("running"), Tone::Busy);
        assert_eq!(tone("whatever"), Tone::Plain);
    }
}
