//! A bounded tail of a child's output, filled by reader threads, so a failing app's last words can
//! be shown without keeping everything it ever printed.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Lines kept; older lines are dropped first.
const MAX_LINES: usize = 60;
/// Longest line kept, in bytes; the rest of a longer line is cut.
const MAX_LINE: usize = 400;

/// The shared tail buffer.
#[derive(Debug, Clone, Default)]
pub struct OutputTail {
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl OutputTail {
    /// Reads `source` line by line on its own thread until it closes.
    pub fn follow(&self, source: impl Read + Send + 'static) -> JoinHandle<()> {
        let lines = Arc::clone(&self.lines);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(source);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let mut line = String::from_utf8_lossy(&buf).trim_end().to_string();
                        if line.len() > MAX_LINE {
                            let mut cut = MAX_LINE;
                            while !line.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            line.truncate(cut);
                            line.push_str(" …");
                        }
                        let mut lines = lines.lock().unwrap_or_else(|e| e.into_inner());
                        if lines.len() == MAX_LINES {
                            lines.pop_front();
                        }
                        lines.push_back(line);
                    }
                }
            }
        })
    }

    /// The kept lines joined with newlines.
    pub fn text(&self) -> String {
        let lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_only_the_last_lines() {
        let tail = OutputTail::default();
        let input: String = (0..200).map(|i| format!("line {i}\n")).collect();
        tail.follow(std::io::Cursor::new(input.into_bytes())).join().unwrap();
        let text = tail.text();
        assert!(text.ends_with("line 199"));
        assert!(!text.contains("line 139\n"));
        assert_eq!(text.lines().count(), MAX_LINES);
    }
}
