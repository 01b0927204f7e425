//! One way to run the long-lived child processes of `cargo xtask` (the demo's identity provider
//! and service), the end-to-end harness (tauri-driver, the identity provider, the service) and
//! the benchmarks (the service, the bare server): start a [`Launch`] with its arguments,
//! environment and log files, wait until it is [`Ready`] (a TCP port accepts, or a stdout line
//! announces it) within a deadline, and get a [`Supervised`] that reports the exit status and,
//! when stopped or dropped, stops the process and everything it started.
//!
//! Stopping sends SIGTERM to the process and every process below it, waits up to a grace period
//! for them all to go, then sends SIGKILL to what is left. The children stay in the caller's
//! process group, so a Ctrl-C at the terminal still reaches them when the caller dies without
//! running its destructors; the tree is read from `/proc` instead (see [`descendants`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod tree;

pub use tree::{ProcessInfo, descendants};

/// How long a process may take to become ready unless the [`Launch`] says otherwise.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// How long a process and its children have after SIGTERM before they are killed.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// Why a process could not be started or did not become ready. The process is stopped before
/// the error is returned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("could not start {name}")]
    Spawn {
        name: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not create the log file {}", path.display())]
    LogFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} exited ({status}) before it was ready")]
    Exited { name: String, status: ExitStatus },
    #[error("{name} closed its stdout without printing a line that starts with {prefix:?}")]
    NoReadyLine { name: String, prefix: String },
    #[error("{name} was not ready ({waited_for}) within {} s", deadline.as_secs_f64())]
    NotReady {
        name: String,
        waited_for: String,
        deadline: Duration,
    },
}

/// When a started process counts as ready.
#[derive(Debug, Clone)]
pub enum Ready {
    /// As soon as it has started.
    Started,
    /// When a TCP connection to this address succeeds.
    Port(SocketAddr),
    /// When it prints a stdout line that starts with this prefix; the rest of the line, trimmed
    /// (such as the URL it listens on), is [`Supervised::announced`].
    StdoutLine(String),
}

/// Where a child's stdout or stderr goes.
#[derive(Debug)]
pub enum Sink {
    /// The caller's own stdout or stderr.
    Inherit,
    /// Nowhere.
    Null,
    /// A (log) file.
    File(File),
}

impl Sink {
    /// A new log file at `path` (replacing one that is there).
    pub fn file(path: &Path) -> Result<Sink, Error> {
        File::create(path)
            .map(Sink::File)
            .map_err(|source| Error::LogFile {
                path: path.to_path_buf(),
                source,
            })
    }

    fn into_stdio(self) -> Stdio {
        match self {
            Sink::Inherit => Stdio::inherit(),
            Sink::Null => Stdio::null(),
            Sink::File(file) => Stdio::from(file),
        }
    }

    fn into_writer(self) -> Box<dyn Write + Send> {
        match self {
            Sink::Inherit => Box::new(std::io::stdout()),
            Sink::Null => Box::new(std::io::sink()),
            Sink::File(file) => Box::new(file),
        }
    }
}

/// A process to start: a `Command` (program, arguments, environment, folder) with where its
/// output goes and when it is ready. Its stdin is always empty.
#[derive(Debug)]
pub struct Launch {
    name: String,
    command: Command,
    stdout: Sink,
    stderr: Sink,
    ready: Ready,
    deadline: Duration,
    grace: Duration,
}

impl Launch {
    /// `command`, called `name` in messages; stdout and stderr inherited, ready once started.
    pub fn new(name: impl Into<String>, command: Command) -> Launch {
        Launch {
            name: name.into(),
            command,
            stdout: Sink::Inherit,
            stderr: Sink::Inherit,
            ready: Ready::Started,
            deadline: DEFAULT_DEADLINE,
            grace: DEFAULT_GRACE,
        }
    }

    /// Where its stdout goes (with [`Ready::StdoutLine`], every line, the ready one included).
    pub fn stdout(mut self, sink: Sink) -> Launch {
        self.stdout = sink;
        self
    }

    /// Where its stderr goes.
    pub fn stderr(mut self, sink: Sink) -> Launch {
        self.stderr = sink;
        self
    }

    /// Wait for `ready`, for at most `deadline`.
    pub fn ready_when(mut self, ready: Ready, deadline: Duration) -> Launch {
        self.ready = ready;
        self.deadline = deadline;
        self
    }

    /// How long it has after SIGTERM before it is killed ([`DEFAULT_GRACE`] unless set).
    pub fn grace(mut self, grace: Duration) -> Launch {
        self.grace = grace;
        self
    }

    /// Start it and wait until it is ready. On an error it has been stopped.
    pub fn start(self) -> Result<Supervised, Error> {
        let Launch {
            name,
            mut command,
            stdout,
            stderr,
            ready,
            deadline,
            grace,
        } = self;
        command.stdin(Stdio::null()).stderr(stderr.into_stdio());
        let mut stdout = Some(stdout);
        if matches!(ready, Ready::StdoutLine(_)) {
            command.stdout(Stdio::piped());
        } else if let Some(sink) = stdout.take() {
            command.stdout(sink.into_stdio());
        }
        let child = command.spawn().map_err(|source| Error::Spawn {
            name: name.clone(),
            source,
        })?;
        let mut supervised = Supervised {
            name,
            child,
            announced: None,
            exit: None,
            grace,
        };
        match ready {
            Ready::Started => {}
            Ready::Port(address) => supervised.wait_for_port(address, deadline)?,
            Ready::StdoutLine(prefix) => {
                let sink = stdout.take().unwrap_or(Sink::Null);
                let announced = supervised.wait_for_line(prefix, sink, deadline)?;
                supervised.announced = Some(announced);
            }
        }
        Ok(supervised)
    }
}

/// Copy `stdout` line by line into `sink`, and send the rest of the first line that starts with
/// `prefix` to `ready`. Keeps reading to the end, so the child never blocks on a full pipe.
fn forward(stdout: ChildStdout, sink: Sink, prefix: &str, ready: mpsc::Sender<String>) {
    let mut reader = BufReader::new(stdout);
    let mut sink = sink.into_writer();
    let mut ready = Some(ready);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let _ = sink.write_all(&line);
        let _ = sink.flush();
        if ready.is_some()
            && let Some(rest) = String::from_utf8_lossy(&line).strip_prefix(prefix)
            && let Some(sender) = ready.take()
        {
            let _ = sender.send(rest.trim().to_string());
        }
    }
}

/// A started process, stopped (with everything it started) when [`Supervised::stop`] is called
/// or when it is dropped.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    child: Child,
    announced: Option<String>,
    exit: Option<ExitStatus>,
    grace: Duration,
}

impl Supervised {
    /// The name it was launched under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// With [`Ready::StdoutLine`], the rest of the line that said it was ready.
    pub fn announced(&self) -> Option<&str> {
        self.announced.as_deref()
    }

    /// How it exited, or `None` while it is running. Does not wait.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    fn wait_for_port(&mut self, address: SocketAddr, deadline: Duration) -> Result<(), Error> {
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Some(status) = self.exit_status() {
                return Err(Error::Exited {
                    name: self.name.clone(),
                    status,
                });
            }
            if started.elapsed() > deadline {
                return Err(Error::NotReady {
                    name: self.name.clone(),
                    waited_for: format!("listening on {address}"),
                    deadline,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    fn wait_for_line(
        &mut self,
        prefix: String,
        sink: Sink,
        deadline: Duration,
    ) -> Result<String, Error> {
        let (sender, receiver) = mpsc::channel();
        if let Some(stdout) = self.child.stdout.take() {
            let prefix = prefix.clone();
            std::thread::spawn(move || forward(stdout, sink, &prefix, sender));
        }
        match receiver.recv_timeout(deadline) {
            Ok(announced) => Ok(announced),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::NotReady {
                name: self.name.clone(),
                waited_for: format!("a stdout line starting {prefix:?}"),
                deadline,
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::NoReadyLine {
                name: self.name.clone(),
                prefix,
            }),
        }
    }

    /// Stop it now: SIGTERM to it and every process below it, SIGKILL to whatever is left after
    /// the grace period. Returns how it exited; calling it again returns the same.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.exit_status() {
            return Some(status);
        }
        let below = descendants(self.id());
        let mut everyone = vec![self.id()];
        everyone.extend(below.iter().map(|process| process.pid));
        tree::signal("TERM", &everyone);
        let deadline = Instant::now() + self.grace;
        loop {
            let exited = self.exit_status().is_some();
            let left: Vec<u32> = below
                .iter()
                .filter(|process| process.is_running())
                .map(|process| process.pid)
                .collect();
            if exited && left.is_empty() {
                return self.exit;
            }
            if Instant::now() >= deadline {
                eprintln!("{} did not stop on SIGTERM; killing it", self.name);
                tree::signal("KILL", &left);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
        self.exit
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn a_stdout_line_announces_readiness_and_every_line_reaches_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("stdout.log");
        let mut process = Launch::new(
            "announcer",
            sh("echo starting; echo 'listening on http://127.0.0.1:1 '; echo after; sleep 30"),
        )
        .stdout(Sink::file(&log).expect("log"))
        .ready_when(
            Ready::StdoutLine("listening on ".into()),
            Duration::from_secs(10),
        )
        .start()
        .expect("ready");
        assert_eq!(process.announced(), Some("http://127.0.0.1:1"));
        assert_eq!(process.exit_status(), None);
        let status = process.stop().expect("stopped");
        assert_eq!(status.signal(), Some(15), "{status}");
        assert_eq!(
            process.stop(),
            Some(status),
            "a second stop reports the same"
        );
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(text.starts_with("starting\nlistening on"), "{text:?}");
        assert!(text.contains("after\n"), "{text:?}");
    }

    #[test]
    fn stdout_closing_without_the_line_is_an_error_naming_the_prefix() {
        let error = Launch::new("quiet", sh("echo something else"))
            .stdout(Sink::Null)
            .ready_when(Ready::StdoutLine("ready ".into()), Duration::from_secs(10))
            .start()
            .expect_err("never ready");
        assert!(
            matches!(&error, Error::NoReadyLine { name, prefix } if name == "quiet" && prefix == "ready "),
            "{error:?}"
        );
    }

    #[test]
    fn a_port_that_never_listens_is_not_ready_by_the_deadline() {
        // Port 0: nothing can ever listen there (binding it picks another port), so no other
        // test or process can take it meanwhile, as one could a port found free and released.
        let address = SocketAddr::from(([127, 0, 0, 1], 0));
        let started = Instant::now();
        let error = Launch::new("sleeper", sh("sleep 30"))
            .ready_when(Ready::Port(address), Duration::from_millis(300))
            .start()
            .expect_err("never listens");
        assert!(matches!(error, Error::NotReady { .. }), "{error:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the sleeper was stopped"
        );
    }

    #[test]
    fn a_listening_port_is_ready_and_an_early_exit_is_reported_with_its_status() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        let mut process = Launch::new("sleeper", sh("sleep 30"))
            .ready_when(Ready::Port(address), Duration::from_secs(10))
            .start()
            .expect("ready");
        assert!(process.stop().is_some());

        let error = Launch::new("quitter", sh("exit 3"))
            .ready_when(Ready::Port(unused_address()), Duration::from_secs(10))
            .start()
            .expect_err("exits");
        assert!(
            matches!(&error, Error::Exited { status, .. } if status.code() == Some(3)),
            "{error:?}"
        );
    }

    #[test]
    fn stopping_stops_the_processes_it_started_too() {
        let mut process = Launch::new("parent", sh("sleep 30 & echo \"child $!\"; wait"))
            .stdout(Sink::Null)
            .ready_when(Ready::StdoutLine("child ".into()), Duration::from_secs(10))
            .start()
            .expect("ready");
        let child: u32 = process
            .announced()
            .and_then(|pid| pid.parse().ok())
            .expect("pid");
        let below = descendants(process.id());
        let sleeper = below
            .iter()
            .find(|found| found.pid == child)
            .cloned()
            .expect("the sleeper is below the parent");
        assert_eq!(sleeper.name, "sleep");
        process.stop();
        assert!(!sleeper.is_running());
    }

    #[test]
    fn a_process_that_ignores_sigterm_is_killed_after_the_grace_period() {
        let mut process = Launch::new(
            "stubborn",
            sh("trap '' TERM; echo ready; while :; do sleep 0.1; done"),
        )
        .stdout(Sink::Null)
        .ready_when(Ready::StdoutLine("ready".into()), Duration::from_secs(10))
        .grace(Duration::from_millis(300))
        .start()
        .expect("ready");
        let started = Instant::now();
        let status = process.stop().expect("stopped");
        assert_eq!(status.signal(), Some(9), "{status}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    fn unused_address() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    }
}
