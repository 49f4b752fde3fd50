//! JSON lines, read back: the one rule for a file that is appended to line by line (a run's
//! `measurements.jsonl`, the run journal `history.jsonl`). Pure: it takes the text and leaves
//! reading the file, and what to say about a skipped line, to the caller.

use serde::de::DeserializeOwned;

/// A line that could not be read, and whether it is the torn last line of a write cut short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// True for a last line without its newline: a process killed mid-write.
    pub torn: bool,
    /// What serde said.
    pub reason: String,
}

/// Every non-blank line of `text` as `(line number, value)`, or the reason it was skipped.
pub fn parse_lines<T: DeserializeOwned>(text: &str) -> Vec<Result<(usize, T), SkippedLine>> {
    let torn_tail = !text.is_empty() && !text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map(|v| (i + 1, v)).map_err(|e| SkippedLine {
                line: i + 1,
                torn: torn_tail && i + 1 == lines.len(),
                reason: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_marked_torn_and_a_bad_middle_line_is_not() {
        let parsed = parse_lines::<u32>("1\nnope\n\n3\n{\"x\":");
        let ok: Vec<(usize, u32)> = parsed.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
        assert_eq!(ok, [(1, 1), (4, 3)]);
        let skipped: Vec<(usize, bool)> =
            parsed.iter().filter_map(|r| r.as_ref().err()).map(|s| (s.line, s.torn)).collect();
        assert_eq!(skipped, [(2, false), (5, true)]);
    }

    #[test]
    fn a_complete_file_has_no_torn_line() {
        let parsed = parse_lines::<u32>("1\n{\"x\":\n");
        assert!(matches!(&parsed[1], Err(SkippedLine { line: 2, torn: false, .. })));
    }
}
