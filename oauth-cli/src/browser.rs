//! `code --open`: the authorization URL opened in the system's browser.

use std::io::Write;
use std::process::{Command, Stdio};

/// Asks the desktop to open `url`; says so on `err` when it cannot (the URL is printed
/// anyway, so the user can open it by hand).
pub(crate) fn open(url: &str, err: &mut dyn Write) {
    let mut command = opener(url);
    // The opener's own messages would interleave with ours: the URL is printed regardless.
    let started = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    if let Err(error) = started {
        let _ = writeln!(err, "could not open a browser ({error}); open the URL below yourself");
    }
}

/// The platform's "open this URL" command. `$BROWSER` wins where set, as on most Unix tools.
fn opener(url: &str) -> Command {
    if let Some(browser) = std::env::var_os("BROWSER").filter(|browser| !browser.is_empty()) {
        let mut command = Command::new(browser);
        command.arg(url);
        return command;
    }
    let (program, leading): (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        // `start`'s first quoted argument is a window title: give an empty one.
        ("cmd", &["/C", "start", ""])
    } else {
        ("xdg-open", &[])
    };
    let mut command = Command::new(program);
    command.args(leading).arg(url);
    command
}
