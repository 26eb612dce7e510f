// The run: each node's status, task, bytes and log lines; what was spent; the finished video
// (or pictures, or sound, as catalog models make) and the output files.

import { withToken, type Workflow } from "./api";
import { bytes, money, type RunState } from "./runState";

export function RunPanel({ run, workflow }: { run: RunState; workflow: Workflow }) {
  const ids = Object.keys(run.nodes).length ? Object.keys(run.nodes) : workflow.nodes.map((node) => node.id);
  const video = run.files.find((file) => /\.(mp4|webm|mov)$/i.test(file.name));
  const images = run.files.filter((file) => /\.(png|jpe?g|gif|webp)$/i.test(file.name));
  const sound = run.files.find((file) => /\.(wav|mp3|m4a|ogg)$/i.test(file.name));
  return (
    <section className="run-panel" data-testid="run-panel">
      <div className="run-nodes">
        <div className="run-summary">
          <strong>Run {run.run || ""}</strong>{" "}
          <span data-testid="run-outcome" className={`outcome ${run.outcome ?? ""}`}>
            {run.active ? "running" : (run.outcome ?? "not started")}
          </span>{" "}
          · spent so far <span data-testid="spent">{money(run.spent)}</span>
          {run.stopped.map((stopped) => (
            <span key={stopped.taskid} className="stopped" data-testid="stopped">
              {" "}
              · task {stopped.taskid} {stopped.how}
            </span>
          ))}
          {run.error && <div className="error-text">{run.error}</div>}
          {run.notes?.map((note) => (
            <div key={note} className={note.startsWith("warning") ? "error-text" : "muted"} data-testid="run-note">
              {note}
            </div>
          ))}
        </div>
        <table>
          <thead>
            <tr>
              <th>node</th>
              <th>state</th>
              <th>status</th>
              <th>task</th>
              <th>bytes</th>
              <th>log</th>
            </tr>
          </thead>
          <tbody>
            {ids.map((id) => {
              const node = run.nodes[id];
              return (
                <tr key={id} data-testid={`run-${id}`} className={node?.state ?? ""}>
                  <td>{id}</td>
                  <td className={`run-state ${node?.state ?? ""}`}>{node?.state ?? "—"}</td>
                  <td>{node?.status ?? node?.message ?? ""}</td>
                  <td>
                    {node?.taskid ?? ""}
                    {node?.stopped ? ` (${node.stopped})` : ""}
                  </td>
                  <td>
                    {node?.transfer
                      ? `${bytes(node.transfer.done)}${node.transfer.total ? ` / ${bytes(node.transfer.total)}` : ""}`
                      : ""}
                  </td>
                  <td className="log">
                    {node && node.log.length > 0 && (
                      <details>
                        <summary>{node.log[node.log.length - 1]}</summary>
                        <pre>{node.log.join("\n")}</pre>
                      </details>
                    )}
                    {node?.state === "failed" && <span className="error-text">{node.message}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="run-outputs">
        {video ? (
          <video key={`${run.run}-${video.url}`} data-testid="video" src={withToken(video.url)} controls preload="metadata" />
        ) : images.length > 0 ? (
          <div className="run-images">
            {images.map((file) => (
              <a key={`${run.run}-${file.url}`} href={withToken(file.url)} target="_blank" rel="noreferrer">
                <img data-testid="image" src={withToken(file.url)} alt={file.name} title={file.name} />
              </a>
            ))}
          </div>
        ) : sound ? (
          <audio key={`${run.run}-${sound.url}`} data-testid="audio" src={withToken(sound.url)} controls preload="metadata" />
        ) : (
          <div className="video-placeholder">the finished video, pictures or sound show here</div>
        )}
        <ul className="files">
          {run.files.map((file) => (
            <li key={file.url}>
              <a href={withToken(file.url, "&download=true")} download data-testid="output-link">
                {file.name}
              </a>
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
