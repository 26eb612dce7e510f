//! Showing a run as it goes: progress bars on a terminal, plain lines otherwise (on stderr, so
//! stdout stays for results).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::batch_view::{BatchTally, BATCH_VIEW_FROM};
use super::rows_view::RowsTally;
use crate::graph::rows::RowResult;
use crate::graph::{RunEvent, Workflow};
use crate::node::NodeEvent;

/// Renders [`RunEvent`]s.
pub(crate) struct Renderer {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
    batch: Option<Mutex<Batch>>,
    width: usize,
}

/// A big batch's one line: a spinner on a terminal, or a plain line every few seconds.
struct Batch {
    tally: Tally,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
}

/// What a batch's line counts: the nodes of one big workflow, or the rows of a table.
enum Tally {
    Nodes(BatchTally),
    Rows(RowsTally),
}

impl Tally {
    /// Counts one event; true when it is worth showing at once (a failure).
    fn count(&mut self, event: &RunEvent) -> bool {
        match self {
            Tally::Nodes(tally) => tally.count(event),
            Tally::Rows(tally) => tally.count(event),
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tally::Nodes(tally) => tally.fmt(f),
            Tally::Rows(tally) => tally.fmt(f),
        }
    }
}

/// How often the plain batch line is printed.
const BATCH_LINE_EVERY: Duration = Duration::from_secs(2);

impl Renderer {
    /// Bars when stderr is a terminal, plain lines otherwise; one line of counts for a batch.
    pub(crate) fn new(workflow: &Workflow) -> Self {
        let width = workflow.nodes.iter().map(|n| n.id.len()).max().unwrap_or(4);
        let terminal = std::io::stderr().is_terminal();
        if workflow.nodes.len() > BATCH_VIEW_FROM {
            let tally = Tally::Nodes(BatchTally::new(workflow.nodes.len()));
            return Self::batch(tally, width, terminal);
        }
        let bars = terminal.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let mut bars = HashMap::new();
            for node in &workflow.nodes {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(spinner_style());
                bar.set_prefix(format!("{:<width$}", node.id));
                bar.set_message("waiting for inputs");
                bars.insert(node.id.clone(), bar);
            }
            (multi, Mutex::new(bars))
        });
        Self {
            bars,
            batch: None,
            width,
        }
    }

    /// One line of row counts for a run over a table of `rows` rows (failures shown whole).
    pub(crate) fn for_rows(rows: usize) -> Self {
        let width = "row-0000-".len() + 8;
        Self::batch(
            Tally::Rows(RowsTally::new(rows)),
            width,
            std::io::stderr().is_terminal(),
        )
    }

    fn batch(tally: Tally, width: usize, terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.set_prefix("batch");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        let batch = Batch {
            tally,
            bar,
            last_line: None,
        };
        Self {
            bars: None,
            batch: Some(Mutex::new(batch)),
            width,
        }
    }

    /// Counts a row of a table that ended (see [`Renderer::for_rows`]).
    pub(crate) fn row_ended(&self, result: &RowResult) {
        if let Some(batch) = &self.batch {
            let mut batch = batch.lock().unwrap_or_else(|p| p.into_inner());
            if let Tally::Rows(tally) = &mut batch.tally {
                tally.row_ended(result);
            }
            batch.refresh();
        }
    }

    /// Shows one event.
    pub(crate) fn show(&self, event: &RunEvent) {
        if let Some(batch) = &self.batch {
            let mut batch = batch.lock().unwrap_or_else(|p| p.into_inner());
            batch.show(event, self.width);
            return;
        }
        match &self.bars {
            Some((_, bars)) => {
                let bars = bars.lock().unwrap_or_else(|p| p.into_inner());
                show_bar(&bars, event);
            }
            None => {
                if let Some(line) = plain_line(event) {
                    let node = node_of(event);
                    eprintln!("[{node:<width$}] {line}", width = self.width);
                }
            }
        }
    }

    /// Stops the bars' redraws.
    pub(crate) fn finish(&self) {
        if let Some(batch) = &self.batch {
            let batch = batch.lock().unwrap_or_else(|p| p.into_inner());
            match &batch.bar {
                Some(bar) => bar.finish_with_message(batch.tally.to_string()),
                None => eprintln!("[batch] {}", batch.tally),
            }
        }
        if let Some((_, bars)) = &self.bars {
            for bar in bars.lock().unwrap_or_else(|p| p.into_inner()).values() {
                if !bar.is_finished() {
                    bar.abandon();
                }
            }
        }
    }
}

impl Batch {
    fn show(&mut self, event: &RunEvent, width: usize) {
        let urgent = self.tally.count(event);
        if urgent {
            // A failure is shown whole, whatever the view.
            if let Some(line) = plain_line(event) {
                let line = format!("[{:<width$}] {line}", node_of(event));
                match &self.bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
        }
        self.refresh();
    }

    /// Redraws the line: at once on a terminal, every few seconds otherwise.
    fn refresh(&mut self) {
        match &self.bar {
            Some(bar) => bar.set_message(self.tally.to_string()),
            None => {
                let due = self
                    .last_line
                    .is_none_or(|last| last.elapsed() >= BATCH_LINE_EVERY);
                if due {
                    eprintln!("[batch] {}", self.tally);
                    self.last_line = Some(Instant::now());
                }
            }
        }
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bytes_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix} {elapsed:>4} [{bar:24}] {bytes}/{total_bytes} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
}

fn show_bar(bars: &HashMap<String, ProgressBar>, event: &RunEvent) {
    let Some(bar) = bars.get(node_of(event)) else {
        return;
    };
    match event {
        RunEvent::Started { type_id, .. } => {
            bar.enable_steady_tick(Duration::from_millis(120));
            bar.reset_elapsed();
            bar.set_message(format!("{type_id}: starting"));
        }
        RunEvent::Progress {
            event: NodeEvent::Transfer { file, done, total },
            ..
        } => {
            if let Some(total) = total {
                if bar.length() != Some(*total) {
                    bar.set_style(bytes_style());
                    bar.set_length(*total);
                }
            }
            bar.set_position(*done);
            bar.set_message(file.clone());
        }
        RunEvent::Progress {
            event: NodeEvent::Log { line, .. },
            ..
        } => {
            bar.set_message(format!("log: {}", truncate(line, 60)));
        }
        RunEvent::Progress { event, .. } => {
            if let Some(text) = node_event_text(event) {
                bar.set_message(text);
            }
        }
        RunEvent::Resumed { how, .. } => bar.finish_with_message(format!("resumed: {how}")),
        RunEvent::Finished { .. } => {
            bar.set_style(spinner_style());
            bar.finish_with_message("done");
        }
        RunEvent::Failed { error, .. } => {
            bar.abandon_with_message(format!("FAILED: {}", truncate(error, 100)))
        }
        RunEvent::Skipped { because, .. } => {
            bar.abandon_with_message(format!("skipped: {because}"))
        }
    }
}

fn node_of(event: &RunEvent) -> &str {
    match event {
        RunEvent::Started { node, .. }
        | RunEvent::Resumed { node, .. }
        | RunEvent::Progress { node, .. }
        | RunEvent::Finished { node, .. }
        | RunEvent::Failed { node, .. }
        | RunEvent::Skipped { node, .. } => node,
    }
}

fn node_event_text(event: &NodeEvent) -> Option<String> {
    Some(match event {
        NodeEvent::Phase { phase } => phase.clone(),
        NodeEvent::TaskStarted(task) => format!("task {} accepted", task.taskid),
        NodeEvent::TaskStatus { status } => format!("{} ({status})", status.phase()),
        NodeEvent::Log { line, stderr } => {
            format!("{}{line}", if *stderr { "stderr: " } else { "| " })
        }
        NodeEvent::TaskStopped { taskid, how, .. } => format!("task {taskid} {how}"),
        NodeEvent::Submitting => "sending the Run".to_owned(),
        NodeEvent::RunRefused { reason } => {
            format!(
                "refused, nothing started ({reason}); it is sent again when a task slot frees up"
            )
        }
        NodeEvent::Transfer { .. } => return None,
    })
}

fn plain_line(event: &RunEvent) -> Option<String> {
    Some(match event {
        RunEvent::Started { type_id, .. } => format!("started ({type_id})"),
        RunEvent::Resumed { how, .. } => format!("resumed: {how}"),
        RunEvent::Progress {
            event: NodeEvent::Transfer { file, done, total },
            ..
        } => {
            // One line per file, when it completes.
            if Some(*done) != *total {
                return None;
            }
            format!("{file}: {done} bytes")
        }
        RunEvent::Progress { event, .. } => node_event_text(event)?,
        RunEvent::Finished { elapsed, .. } => format!("finished in {:.1}s", elapsed.as_secs_f64()),
        RunEvent::Failed { error, .. } => format!("FAILED: {error}"),
        RunEvent::Skipped { because, .. } => format!("skipped: {because}"),
    })
}

fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit).collect();
    cut.push('…');
    cut
}
