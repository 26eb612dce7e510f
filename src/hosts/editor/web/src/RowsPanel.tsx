// The rows panel: a table of inputs (CSV, TSV or JSON Lines, chosen or pasted) for the open
// workflow, checked whole by the server before anything runs; each row's cells, why a row is
// refused (in the CLI's words), the table's price, and during a run each row's status, task,
// cost and files, with the results table to download at the end.

import { useState } from "react";
import { withToken, type Json, type TableCheck } from "./api";
import { rowViews } from "./rowsState";
import { money, type RunState } from "./runState";

/** Rows drawn at most: a table of thousands runs whole, its results table lists every row. */
const ROWS_DRAWN = 500;

/** A pasted table as a file the server reads by its ending: JSON Lines, TSV or CSV. */
export function pastedFile(text: string): File {
  const first = text.split(/\r?\n/).find((line) => line.trim() !== "") ?? "";
  const name = first.trimStart().startsWith("{") ? "pasted.jsonl" : first.includes("\t") ? "pasted.tsv" : "pasted.csv";
  return new File([text], name, { type: "text/plain" });
}

function cellText(value: Json | undefined): string {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function RowsPanel({
  table,
  run,
  maxCost,
  onMaxCost,
  onLoad,
  onClose,
}: {
  table: TableCheck | null;
  run: RunState;
  /** Dollars the table's run may cost at most (as `--max-cost`); empty for no cap. */
  maxCost: string;
  onMaxCost: (text: string) => void;
  onLoad: (file: File) => void;
  onClose: () => void;
}) {
  const [pasting, setPasting] = useState(false);
  const [pasted, setPasted] = useState("");
  const views = rowViews(run, table?.table);
  const refused = table?.rows.filter((row) => row.problems.length > 0).length ?? 0;
  const passed = table !== null && refused === 0 && table.problems.length === 0;
  const done = [...views.values()].filter((view) => view.status === "done").length;
  const ended = views.size > 0 && !run.active;
  return (
    <section className="run-panel rows-panel" data-testid="rows-panel">
      <div className="run-nodes">
        <div className="run-summary rows-summary">
          <strong>Rows</strong>{" "}
          <label className="file-button">
            {table ? "Another table…" : "Choose a table…"}
            <input
              type="file"
              accept=".csv,.tsv,.tab,.jsonl,.ndjson,.txt,text/csv,text/tab-separated-values"
              data-testid="table-input"
              onChange={(event) => {
                const file = event.target.files?.[0];
                if (file) onLoad(file);
                event.target.value = "";
              }}
            />
          </label>{" "}
          <button className="small" onClick={() => setPasting(!pasting)} data-testid="table-paste-toggle">
            Paste…
          </button>{" "}
          <button className="small" onClick={onClose} title="Back to the run's nodes; the table is forgotten">
            Close
          </button>
          {table && (
            <>
              {" "}
              · <span className="mono">{table.table}</span> ·{" "}
              <span data-testid="table-rows">
                {table.rows.length} row{table.rows.length === 1 ? "" : "s"}
              </span>
              {passed && (
                <span className="estimate-dark" data-testid="table-total" title="if every paid task succeeds; failed tasks are not billed">
                  {" "}
                  · total {typeof table.total === "number" ? money(table.total) : "price unknown"}
                </span>
              )}
              {passed && (
                <label className="max-cost" title="Refuse to start when the estimate is above this (or unknown); nothing is sent but the price look-ups">
                  {" "}
                  · max $
                  <input
                    type="text"
                    inputMode="decimal"
                    size={8}
                    value={maxCost}
                    placeholder="no cap"
                    onChange={(event) => onMaxCost(event.target.value)}
                    data-testid="max-cost"
                  />
                </label>
              )}
              {!passed && (
                <span className="error-text" data-testid="table-refused">
                  {" "}
                  · the table cannot run; nothing was sent{refused ? ` (${refused} of ${table.rows.length} rows refused)` : ""}
                </span>
              )}
            </>
          )}
          {views.size > 0 && (
            <>
              {" "}
              ·{" "}
              <span data-testid="rows-done">
                {done} of {views.size} done
              </span>{" "}
              · spent {money(run.spent)}
              {ended && run.chargedInAll !== undefined && run.chargedInAll > run.spent && (
                <span data-testid="charged-in-all"> ({money(run.chargedInAll)} in all, earlier runs of resumed rows included)</span>
              )}
            </>
          )}
          {ended && run.results && (
            <>
              {" "}
              ·{" "}
              <a href={withToken(run.results.url, "&download=true")} download data-testid="results-link">
                {run.results.name}
              </a>
            </>
          )}
        </div>
        {pasting && (
          <div className="rows-paste">
            <textarea
              value={pasted}
              onChange={(event) => setPasted(event.target.value)}
              placeholder={"video.prompt,video.seed\n\"a fox, running\",1\n(CSV, TSV or JSON Lines; each column is NODE.INPUT)"}
              data-testid="table-paste"
            />
            <button
              className="small"
              disabled={pasted.trim() === ""}
              data-testid="table-paste-use"
              onClick={() => {
                onLoad(pastedFile(pasted));
                setPasting(false);
              }}
            >
              Use this table
            </button>
          </div>
        )}
        {!table && !pasting && (
          <p className="muted">
            One run of this workflow per row: each column is <code>NODE.INPUT</code> (as <code>--set</code>), an empty cell
            keeps the workflow&apos;s value. Every row is checked before anything runs; files go to <code>row-NNNN/</code>.
          </p>
        )}
        {table?.notes.map((note) => (
          <p key={note} className="muted" data-testid="table-note">
            {note}
          </p>
        ))}
        {table && table.problems.length > 0 && (
          <ul className="problems" data-testid="table-problems">
            {table.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        )}
        {table && table.rows.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>row</th>
                <th>status</th>
                <th>task</th>
                <th>cost</th>
                <th>files or error</th>
                {table.columns.map((column) => (
                  <th key={column}>{column}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.slice(0, ROWS_DRAWN).map((row) => {
                const view = views.get(row.row);
                const status = view?.status ?? (row.problems.length ? "refused" : "ready");
                return (
                  <tr key={row.row} data-testid={`row-${row.row}`} className={status}>
                    <td>{row.row}</td>
                    <td className={`run-state row-status ${status}`} data-testid="row-status">
                      {status}
                      {view?.activity ? <span className="muted"> · {view.activity}</span> : null}
                    </td>
                    <td>{view?.tasks.join(" ")}</td>
                    <td>{view && view.cost > 0 ? money(view.cost) : ""}</td>
                    <td>
                      {view?.files.map((file) => (
                        <a key={file.url} href={withToken(file.url, "&download=true")} download data-testid="row-file">
                          {file.name}{" "}
                        </a>
                      ))}
                      {row.problems.map((problem) => (
                        <div key={problem} className="error-text" data-testid="row-problem">
                          {problem}
                        </div>
                      ))}
                      {view?.error && <span className="error-text">{view.error}</span>}
                    </td>
                    {table.columns.map((column) => (
                      <td key={column} className="cell" title={cellText(row.cells[column])}>
                        {cellText(row.cells[column])}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {table && table.rows.length > ROWS_DRAWN && (
          <>
            <p className="muted">
              … and {table.rows.length - ROWS_DRAWN} more rows, not drawn; every row is in results.csv when the run ends.
            </p>
            <ul className="problems">
              {table.rows.slice(ROWS_DRAWN).flatMap((row) => row.problems).map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </>
        )}
      </div>
    </section>
  );
}
