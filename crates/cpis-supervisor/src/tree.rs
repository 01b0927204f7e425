//! The processes under a process, read from Linux's `/proc`, and signals sent to them with the
//! `kill` command (no `unsafe`). Where there is no `/proc` the tree is empty, so only the child
//! itself is stopped.

use std::process::{Command, Stdio};

/// One process as `/proc/<pid>/stat` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Its process id.
    pub pid: u32,
    /// Its parent's process id.
    pub parent: u32,
    /// Its command name (`comm`, at most 15 bytes).
    pub name: String,
    /// When it started, in clock ticks after boot: with `pid`, it names this process and not a
    /// later one that was given the same id.
    start_time: u64,
    /// Its state letter (`R`, `S`, `Z` for a zombie, ...).
    state: char,
}

impl ProcessInfo {
    /// Whether this very process (not another given its id since) is still running; a zombie
    /// is not.
    pub fn is_running(&self) -> bool {
        read_stat(self.pid).is_some_and(|now| {
            now.start_time == self.start_time && !matches!(now.state, 'Z' | 'X' | 'x')
        })
    }
}

/// Parse `/proc/<pid>/stat`: `pid (comm) state ppid ...`, where `comm` may hold spaces and
/// brackets, so the fields are split after the last `)`.
fn parse_stat(pid: u32, stat: &str) -> Option<ProcessInfo> {
    let (head, rest) = stat.rsplit_once(')')?;
    let name = head.split_once('(').map(|(_, name)| name)?.to_string();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(ProcessInfo {
        pid,
        parent: fields.get(1)?.parse().ok()?,
        name,
        // Field 22 of the whole line; the state is field 3.
        start_time: fields.get(19)?.parse().ok()?,
        state: fields.first()?.chars().next()?,
    })
}

fn read_stat(pid: u32) -> Option<ProcessInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &stat)
}

fn all_processes() -> Vec<ProcessInfo> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(read_stat)
        .collect()
}

/// Every process below `pid` (its children, their children, ...), not `pid` itself, parents
/// before their children.
pub fn descendants(pid: u32) -> Vec<ProcessInfo> {
    let all = all_processes();
    let mut tree: Vec<ProcessInfo> = Vec::new();
    let mut parents = vec![pid];
    let mut index = 0;
    while index < parents.len() {
        let parent = parents[index];
        for process in &all {
            if process.parent == parent && !parents.contains(&process.pid) {
                parents.push(process.pid);
                tree.push(process.clone());
            }
        }
        index += 1;
    }
    tree
}

/// Send `signal` (`TERM`, `KILL`) to `pids` with the `kill` command; a process that has gone
/// already is no error.
pub(crate) fn signal(signal: &str, pids: &[u32]) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .args(pids.iter().map(u32::to_string))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_spaces_and_brackets_in_the_name_is_read() {
        let stat = "4242 (Web Content (x)) S 17 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 \
                    3 0 123456 1000 10 18446744073709551615";
        let process = parse_stat(4242, stat).expect("parsed");
        assert_eq!(process.name, "Web Content (x)");
        assert_eq!(process.parent, 17);
        assert_eq!(process.start_time, 123456);
        assert_eq!(process.state, 'S');
    }

    #[test]
    fn this_process_is_running_and_is_no_descendant_of_itself() {
        let me = read_stat(std::process::id()).expect("/proc/self");
        assert!(me.is_running());
        assert!(
            descendants(std::process::id())
                .iter()
                .all(|process| process.pid != std::process::id())
        );
    }
}
