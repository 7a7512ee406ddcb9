//! What the operator sees while a file imports.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::Tally;

/// What the operator sees while a file imports: on a terminal a bar over the file's bytes
/// with the lines done, the rate and the time left; otherwise a line at the start, one every
/// few seconds and one at the end, which is what a log collector wants. An archive takes
/// minutes, and silence would look like a hang.
pub struct Progress {
    done: Arc<std::sync::atomic::AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

/// Seconds between two progress lines when stderr is not a terminal.
const PROGRESS_EVERY: u64 = 5;

/// What an import does after its last line: merging a large archive's search index takes
/// a while, with the bar full.
const SETTLING: &str = "merging the search index";

impl Progress {
    /// Starts showing the import of `name`, `size` bytes, as `tally` counts it.
    pub fn start(name: String, size: u64, tally: Arc<Tally>) -> Progress {
        use std::io::IsTerminal;
        use std::time::{Duration, Instant};
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let started = Instant::now();
        let bar = std::io::stderr().is_terminal().then(|| {
            // A pipe has no size to measure against: a spinner with the bytes and lines read.
            let (bar, template) = if size > 0 {
                (
                    indicatif::ProgressBar::new(size),
                    "{msg} [{bar:30}] {bytes}/{total_bytes}, {elapsed_precise}, ETA {eta}",
                )
            } else {
                (
                    indicatif::ProgressBar::new_spinner(),
                    "{spinner} {msg}, {bytes}, {elapsed_precise}",
                )
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(name.clone());
            bar
        });
        if bar.is_none() {
            if size > 0 {
                eprintln!("{name}: importing {}", indicatif::HumanBytes(size));
            } else {
                eprintln!("{name}: importing");
            }
        }
        let line = {
            let (name, tally) = (name.clone(), tally.clone());
            // The last line, once everything is done, gives the whole import's figures.
            move |finished: bool| {
                let bytes = tally.bytes.load(Ordering::Relaxed);
                let lines = tally.lines.load(Ordering::Relaxed);
                let seconds = started.elapsed().as_secs_f64();
                let rate = if seconds > 0.0 {
                    lines as f64 / seconds
                } else {
                    0.0
                };
                let eta = (bytes > 0 && bytes < size).then(|| {
                    let left = seconds * (size - bytes) as f64 / bytes as f64;
                    format!(
                        ", ETA {}",
                        indicatif::HumanDuration(Duration::from_secs_f64(left))
                    )
                });
                // A pipe has no size: its bytes are counted without a share of a whole.
                let of = if size > 0 {
                    format!(
                        "/{} ({:.0}%)",
                        indicatif::HumanBytes(size),
                        bytes as f64 * 100.0 / size as f64
                    )
                } else {
                    String::new()
                };
                if !finished && tally.settling.load(Ordering::Relaxed) {
                    return format!("{name}: {lines} lines, {SETTLING}, {seconds:.0} s");
                }
                format!(
                    "{name}: {lines} lines, {}{of}, {rate:.0} lines/s, {:.0} s{}",
                    indicatif::HumanBytes(bytes),
                    seconds,
                    eta.unwrap_or_default()
                )
            }
        };
        let ticker = {
            let done = done.clone();
            std::thread::spawn(move || {
                let mut last_line = Instant::now();
                loop {
                    let finished = done.load(Ordering::Relaxed);
                    match &bar {
                        Some(bar) => {
                            bar.set_position(tally.bytes.load(Ordering::Relaxed));
                            let lines = tally.lines.load(Ordering::Relaxed);
                            bar.set_message(if tally.settling.load(Ordering::Relaxed) {
                                format!("{name}: {lines} lines, {SETTLING}")
                            } else {
                                format!("{name}: {lines} lines")
                            });
                            if finished {
                                bar.finish_and_clear();
                            }
                        }
                        None if finished || last_line.elapsed() >= Duration::from_secs(PROGRESS_EVERY) => {
                            last_line = Instant::now();
                            eprintln!("{}", line(finished));
                        }
                        None => {}
                    }
                    if finished {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Progress {
            done,
            ticker: Some(ticker),
        }
    }

    /// Stops showing progress, with a last line when stderr is not a terminal.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
