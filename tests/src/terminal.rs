//! A pseudo-terminal, so a test sees what a person at a terminal would: the program writes to
//! the terminal's side, the test reads the screen from the other.

use std::fs::File;
use std::io::Read as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

/// An open pseudo-terminal whose output is recorded as it arrives.
pub struct Terminal {
    /// The program's side: a terminal (`is_terminal()` is true).
    pub device: File,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    /// Opens a pseudo-terminal and starts recording what is written to it.
    pub fn open() -> Self {
        let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("a pseudo-terminal");
        grantpt(&controller).unwrap();
        unlockpt(&controller).unwrap();
        let name = ptsname(&controller, Vec::new()).unwrap();
        let device = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(name.to_str().unwrap())
            .expect("the terminal's device");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&screen);
        let mut controller = File::from(controller);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // Ends when the device side is closed (EIO on Linux).
            while let Ok(read @ 1..) = controller.read(&mut buffer) {
                recorded.lock().unwrap_or_else(PoisonError::into_inner).extend_from_slice(&buffer[..read]);
            }
        });
        Terminal { device, screen }
    }

    /// Everything written so far.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    /// Waits (up to 30 s) until the screen shows `text`, and returns the screen.
    pub fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(Instant::now() < deadline, "the terminal never showed {text:?}; it shows {screen:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
