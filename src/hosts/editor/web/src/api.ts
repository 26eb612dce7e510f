// The editor server's API. The token comes from the page address's fragment (#token=...),
// which the browser never sends anywhere; every call carries it in a header, and the few
// addresses the browser fetches by itself (<video>, links, the WebSocket) carry it as ?token=.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Port {
  name: string;
  label: string;
  key: number;
  required: boolean;
}

export interface NodeSpec {
  type: string;
  version: number;
  title: string;
  category: string;
  description: string;
  spends_money: boolean;
  inputs: JsonObject;
  outputs: JsonObject;
  ports: { inputs: Port[]; outputs: Port[] };
  /** Filled by the price lookup when it lands (the batches issue); absent until then. */
  price?: { amount: number; currency: string; per?: string };
}

export interface Catalog {
  nodes: NodeSpec[];
  types: string[];
  /** fits[outputKey] lists the input type keys an output of that type may feed. */
  fits: number[][];
}

export interface Problem {
  node: string | null;
  path: string;
  rule: string;
  message: string;
}

export interface Session {
  backend: string;
  workspace: string;
  out: string;
  uploads: string;
}

export interface WorkflowNode {
  id: string;
  type: string;
  inputs: JsonObject;
}

export interface Workflow {
  version: number;
  description?: string;
  nodes: WorkflowNode[];
}

export const token: string = new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";

/** An address the browser fetches by itself, with the token in its query. */
export function withToken(path: string, extra = ""): string {
  return `${path}?token=${encodeURIComponent(token)}${extra}`;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: JsonObject,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown, raw = false): Promise<T> {
  const headers: Record<string, string> = { "x-wiro-editor-token": token };
  let payload: BodyInit | undefined;
  if (body instanceof FormData) {
    payload = body;
  } else if (raw) {
    payload = body as string;
    headers["content-type"] = "text/plain";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch(path, { method, headers, body: payload });
  const text = await response.text();
  let parsed: JsonObject = {};
  try {
    parsed = text ? (JSON.parse(text) as JsonObject) : {};
  } catch {
    parsed = { error: text };
  }
  if (!response.ok) {
    throw new ApiError(String(parsed.error ?? response.statusText), response.status, parsed);
  }
  return parsed as T;
}

/** What one paid node's Run will cost, from the model's published prices. */
export type Estimate =
  | { kind: "known"; usd: number; basis: string }
  | { kind: "unknown"; reason: string };

/** The server's answer to validate: the problems, and for a valid workflow its price. */
export type Validation = {
  problems: Problem[];
  price?: { nodes: { node: string; model: string | null; estimate: Estimate }[] };
  total?: number | null;
};

/** One row of a table, as the server read it: its line in the file, its cells, and why it
 * cannot run (each line as `wiro-nodes run --rows` prints it; empty when it can). */
export interface TableRow {
  row: number;
  cells: JsonObject;
  problems: string[];
}

/** A table checked against the open workflow, every row, before anything runs. */
export interface TableCheck {
  /** Where it is stored, relative to the workspace (what a run names). */
  table: string;
  columns: string[];
  rows: TableRow[];
  /** What the reader left out (rows with every cell empty), in the CLI's words. */
  notes: string[];
  /** Problems of the table as a whole, in the CLI's words. */
  problems: string[];
  /** The price of every row, when the table passed; null when a price is unknown. */
  total?: number | null;
  paid_nodes?: number;
}

export const api = {
  session: () => call<Session>("GET", "/api/session"),
  nodes: () => call<Catalog>("GET", "/api/nodes"),
    validate: (workflow: Workflow) => call<Validation>("POST", "/api/validate", workflow),
  fits: (question: { from_type: string; from_port: string; path: string[]; to_type: string; to_port: string }) =>
    call<{ fits?: boolean; given?: string; wanted?: string; error?: string }>("POST", "/api/fits", question),
  open: (text: string) => call<{ workflow: Workflow }>("POST", "/api/open", text, true),
  save: (name: string, workflow: Workflow) => call<{ path: string }>("POST", "/api/save", { name, workflow }),
  storeFile: (file: File) => {
    const form = new FormData();
    form.append("file", file, file.name);
    return call<{ path: string }>("POST", "/api/files", form);
  },
  rows: (workflow: Workflow, table: string) => call<TableCheck>("POST", "/api/rows", { workflow, table }),
  run: (workflow: Workflow, fresh: boolean, rows?: string, max_cost?: number) =>
    call<{ run: number }>("POST", "/api/run", { workflow, fresh, rows, max_cost }),
  cancel: () => call<{ cancelled: boolean }>("POST", "/api/run/cancel"),
};

export function eventsUrl(): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}${withToken("/api/events")}`;
}
