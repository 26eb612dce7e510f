// The inspector's parts besides the node form: a node's id, an edge's reference (which may
// point into a field of an output), and the workflow's description with its problem list.

import { useEffect, useState } from "react";
import type { Problem, Workflow } from "./api";

export function NodeIdField({ id, onRename }: { id: string; onRename: (to: string) => void }) {
  const [text, setText] = useState(id);
  useEffect(() => setText(id), [id]);
  const apply = () => {
    if (text !== id) onRename(text);
  };
  return (
    <label className="node-id">
      id{" "}
      <input
        value={text}
        data-testid="node-id"
        onChange={(event) => setText(event.target.value)}
        onBlur={apply}
        onKeyDown={(event) => event.key === "Enter" && apply()}
      />
    </label>
  );
}

export function EdgeEditor({ text, target, onApply }: { text: string; target: string; onApply: (text: string) => Promise<void> }) {
  const [value, setValue] = useState(text);
  return (
    <div className="edge-editor">
      <h2>Edge into {target}</h2>
      <p className="muted">
        A reference to another node's output, or to a field inside it: <code>wait.outputs.0.url</code>. The server checks
        the field's type against the input.
      </p>
      <input value={value} onChange={(event) => setValue(event.target.value)} data-testid="edge-reference" />
      <button onClick={() => void onApply(value)} data-testid="edge-apply">
        Apply
      </button>
    </div>
  );
}

export function WorkflowSummary(props: {
  workflow: Workflow;
  problems: Problem[];
  onPick: (id: string) => void;
  setWorkflow: (workflow: Workflow) => void;
}) {
  const { workflow, problems, onPick, setWorkflow } = props;
  return (
    <div className="summary">
      <h2>Workflow</h2>
      <label>
        description
        <textarea
          value={workflow.description ?? ""}
          onChange={(event) => {
            const next: Workflow = { ...workflow, description: event.target.value };
            if (!event.target.value) delete next.description;
            setWorkflow(next);
          }}
        />
      </label>
      <p className="muted">
        Add nodes from the palette, drag from an output port (right) to an input port (left), pick a node to fill its form.
      </p>
      <h3>Problems</h3>
      {problems.length === 0 ? (
        <p className="muted">none</p>
      ) : (
        <ul className="problems" data-testid="problems">
          {problems.map((problem, index) => (
            <li key={index} onClick={() => problem.node && onPick(problem.node)}>
              <strong>{problem.node ?? "workflow"}</strong>
              {problem.path ? ` · ${problem.path}` : ""}: {problem.message} <span className="muted">[{problem.rule}]</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
