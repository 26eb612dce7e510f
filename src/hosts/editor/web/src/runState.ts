// What the page knows about the current run, folded from the server's run events.

export type NodeState = "pending" | "running" | "finished" | "resumed" | "failed" | "skipped" | "cancelled";

export interface NodeRun {
  state: NodeState;
  status?: string;
  phase?: string;
  taskid?: string;
  stopped?: string;
  transfer?: { file: string; done: number; total: number | null };
  log: string[];
  message?: string;
  elapsed?: number;
  /** What its task records say was charged, by task id. */
  charged?: Record<string, number>;
  /** The files its outputs name, once it has finished (or was resumed). */
  files?: RunFile[];
}

export interface RunFile {
  name: string;
  url: string;
}

/** How a row of a table ended, as the results table says it. */
export interface RowResult {
  row: number;
  outcome: string;
  tasks: string[];
  cost: number;
  files: RunFile[];
  error?: string;
}

export interface RunState {
  run: number;
  /** A run over a table: the table, and each row's line with its nodes' ids. */
  table?: string;
  rows?: { row: number; nodes: string[] }[];
  /** At a table's end: each row's result and the results table to download. */
  rowResults?: RowResult[];
  results?: RunFile;
  active: boolean;
  outcome?: string;
  spent: number;
  /** A table's rows' charges, earlier runs of its resumed rows included, once it ended. */
  chargedInAll?: number;
  nodes: Record<string, NodeRun>;
  /** The run's files: each node's as it finishes, then the whole list at the run's end. */
  files: RunFile[];
  stopped: { taskid: string; how: string }[];
  error?: string;
  /** At a table's end, as the CLI tells them: files moved aside, paid tasks left running. */
  notes?: string[];
}

export type RunEvent = { kind: string; node?: string; [key: string]: unknown };

const LOG_LINES = 200;

export function emptyRun(): RunState {
  return { run: 0, active: false, spent: 0, nodes: {}, files: [], stopped: [] };
}

export function fold(state: RunState, event: RunEvent): RunState {
  if (event.kind === "run_started") {
    const nodes: Record<string, NodeRun> = {};
    for (const id of (event.nodes as string[]) ?? []) nodes[id] = { state: "pending", log: [] };
    return {
      run: Number(event.run),
      active: true,
      spent: 0,
      nodes,
      files: [],
      stopped: [],
      table: event.table as string | undefined,
      rows: event.rows as RunState["rows"],
    };
  }
  if (event.kind === "spent") return { ...state, spent: Number(event.amount) };
  if (event.kind === "run_finished") {
    return {
      ...state,
      active: false,
      outcome: String(event.outcome),
      spent: Number(event.spent),
      chargedInAll: event.charged_in_all === undefined ? undefined : Number(event.charged_in_all),
      files: (event.files as RunFile[]) ?? [],
      stopped: (event.stopped as { taskid: string; how: string }[]) ?? [],
      rowResults: event.rows as RowResult[] | undefined,
      results: event.results as RunFile | undefined,
      error: event.results_error as string | undefined,
      notes: event.notes as string[] | undefined,
    };
  }
  if (event.kind === "run_invalid" || event.kind === "run_error") {
    return { ...state, active: false, outcome: "failed", error: String(event.error ?? "the workflow is invalid") };
  }
  const id = event.node;
  if (!id) return state;
  const node: NodeRun = { ...(state.nodes[id] ?? { state: "pending", log: [] }) };
  switch (event.kind) {
    case "started":
      node.state = "running";
      break;
    case "resumed":
      node.state = "resumed";
      node.message = String(event.how);
      node.files = (event.files as RunFile[]) ?? [];
      break;
    case "phase":
      node.phase = String(event.phase);
      node.status = node.phase;
      break;
    case "submitting":
      node.phase = "submitting";
      node.status = node.phase;
      break;
    case "run_refused":
      node.status = `waiting for a task slot (${String(event.reason)})`;
      break;
    case "task_started":
      node.taskid = String(event.taskid);
      break;
    case "task_status":
      node.status = String(event.status);
      break;
    case "log":
      node.log = [...node.log, String(event.line)].slice(-LOG_LINES);
      break;
    case "transfer":
      node.transfer = { file: String(event.file), done: Number(event.done), total: event.total === null ? null : Number(event.total) };
      break;
    case "task_stopped":
      node.taskid = String(event.taskid);
      node.stopped = String(event.how);
      node.state = "cancelled";
      node.status = `task ${String(event.taskid)} ${String(event.how)}`;
      break;
    case "finished":
      node.state = "finished";
      node.elapsed = Number(event.elapsed);
      node.status = `in ${node.elapsed.toFixed(1)} s`;
      node.charged = event.charged as Record<string, number>;
      node.files = (event.files as RunFile[]) ?? [];
      break;
    case "failed":
      node.state = node.stopped ? "cancelled" : "failed";
      node.message = String(event.error);
      break;
    case "skipped":
      node.state = "skipped";
      node.message = String(event.because);
      break;
    default:
      return state;
  }
  const files = withFiles(state.files, node.files);
  return { ...state, files, nodes: { ...state.nodes, [id]: node } };
}

/** `files` and the `added` ones it does not list yet. */
function withFiles(files: RunFile[], added: RunFile[] | undefined): RunFile[] {
  const fresh = (added ?? []).filter((file) => !files.some((known) => known.name === file.name));
  return fresh.length ? [...files, ...fresh] : files;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Dollars and cents, and the further decimals Wiro bills in (at most six): as `graph::usd` says it. */
export function money(amount: number): string {
  const [whole, decimals = ""] = amount.toFixed(6).replace(/0+$/, "").split(".");
  const dollars = whole === "-0" ? "0" : whole;
  return `$${dollars}.${decimals.padEnd(2, "0")}`;
}
