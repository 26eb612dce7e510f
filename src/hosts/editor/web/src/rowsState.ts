// Each row of a table run, followed live: folded from its nodes' states in the run's events
// (the server names each row's nodes when the run starts; a node's files come with its end),
// and taken from the results table the server writes when the run ends.

import type { NodeRun, RunFile, RunState } from "./runState";

export type RowStatus = "waiting" | "running" | "done" | "failed" | "cancelled" | "skipped";

export interface RowView {
  row: number;
  status: RowStatus;
  /** What it is doing now: a node's status (a task's state, waiting for a slot, bytes). */
  activity?: string;
  tasks: string[];
  cost: number;
  files: RunFile[];
  error?: string;
}

const OUTCOMES: Record<string, RowStatus> = { done: "done", failed: "failed", cancelled: "cancelled", skipped: "skipped" };

/** The rows of `run` when it ran `table`, by row line; empty for any other run. */
export function rowViews(run: RunState, table: string | undefined): Map<number, RowView> {
  const views = new Map<number, RowView>();
  if (!run.rows || !table || run.table !== table) return views;
  const results = new Map((run.rowResults ?? []).map((result) => [result.row, result]));
  for (const { row, nodes } of run.rows) {
    const result = results.get(row);
    if (result) {
      views.set(row, {
        row,
        status: OUTCOMES[result.outcome] ?? "failed",
        tasks: result.tasks,
        cost: result.cost,
        files: result.files,
        error: result.error,
      });
      continue;
    }
    views.set(row, live(row, nodes, run.nodes));
  }
  return views;
}

function live(row: number, ids: string[], nodes: Record<string, NodeRun>): RowView {
  const prefix = `row-${String(row).padStart(4, "0")}-`;
  const states = ids.map((id) => ({ id: id.startsWith(prefix) ? id.slice(prefix.length) : id, node: nodes[id] }));
  const tasks = [...new Set(states.flatMap(({ node }) => (node?.taskid ? [node.taskid] : [])))];
  const charged: Record<string, number> = {};
  for (const { node } of states) Object.assign(charged, node?.charged ?? {});
  const cost = Object.values(charged).reduce((total, amount) => total + amount, 0);
  const files = states.flatMap(({ node }) => node?.files ?? []);
  const view: RowView = { row, status: "waiting", tasks, cost, files };
  const failed = states.find(({ node }) => node?.state === "failed");
  const has = (...wanted: string[]) => states.some(({ node }) => node && wanted.includes(node.state));
  if (failed) {
    view.status = "failed";
    view.error = `${failed.id}: ${failed.node?.message ?? ""}`;
  } else if (has("cancelled")) {
    view.status = "cancelled";
  } else if (states.every(({ node }) => node?.state === "finished" || node?.state === "resumed")) {
    view.status = "done";
  } else if (has("running", "finished", "resumed")) {
    view.status = "running";
    const running = states.find(({ node }) => node?.state === "running")?.node;
    view.activity = running?.transfer ? `${running.transfer.file}` : (running?.status ?? running?.phase);
  } else if (has("skipped")) {
    view.status = "skipped";
  }
  return view;
}
