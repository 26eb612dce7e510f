// The editor: palette, canvas, inspector (form or edge), problems, run panel. The workflow in
// the CLI's format is the one model; everything on screen is drawn from it and the specs.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  ReactFlow,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type FinalConnectionState,
  type IsValidConnection,
  type NodeChange,
} from "@xyflow/react";
import { api, ApiError, eventsUrl, type Catalog, type JsonObject, type NodeSpec, type Problem, type Session, type TableCheck, type Validation, type Workflow } from "./api";
import { NodeCard, type CardNode } from "./NodeCard";
import { NodeForm } from "./NodeForm";
import { Palette } from "./Palette";
import { EdgeEditor, NodeIdField, WorkflowSummary } from "./Inspector";
import { RowsPanel } from "./RowsPanel";
import { RunPanel } from "./RunPanel";
import { emptyRun, fold, money, type RunState } from "./runState";
import {
  layout,
  links,
  mergeFormData,
  newNodeId,
  parseReference,
  referenceText,
  removeNode,
  renameNode,
  setInput,
} from "./workflow";

const nodeTypes = { card: NodeCard };
type Selection = { kind: "node"; id: string } | { kind: "edge"; id: string } | null;
type Notice = { text: string; kind: "info" | "error" } | null;

export function App() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [workflow, setWorkflow] = useState<Workflow>({ version: 1, nodes: [] });
  const [positions, setPositions] = useState<Record<string, { x: number; y: number }>>({});
  // The canvas measures its nodes and reports their sizes as changes; a controlled canvas
  // must hand them back, or it keeps the nodes hidden.
  const [measured, setMeasured] = useState<Record<string, { width: number; height: number }>>({});
  const [selection, setSelection] = useState<Selection>(null);
    const [problems, setProblems] = useState<Problem[]>([]);
  const [validation, setValidation] = useState<Validation | null>(null);
  const [run, setRun] = useState<RunState>(emptyRun());
  const [notice, setNotice] = useState<Notice>(null);
  const [saveName, setSaveName] = useState("workflow.json");
  const [fresh, setFresh] = useState(false);
  // The rows panel and the table loaded for the open workflow (checked by the server).
  const [showRows, setShowRows] = useState(false);
  const [table, setTable] = useState<TableCheck | null>(null);
  const [maxCost, setMaxCost] = useState("");
  const flow = useReactFlow();
  const openInput = useRef<HTMLInputElement>(null);

  const paletteNodes = useMemo(() => catalog?.nodes ?? [], [catalog]);
  const specs = useMemo(() => new Map((catalog?.nodes ?? []).map((spec) => [spec.type, spec])), [catalog]);
  const say = (text: string, kind: "info" | "error" = "info") => setNotice({ text, kind });

  useEffect(() => {
    api.nodes().then(setCatalog, (error: Error) => say(`cannot load the node specs: ${error.message}`, "error"));
    api.session().then(setSession, () => undefined);
  }, []);

  // The run's events, replayed from the start of the current run on every (re)connect.
  useEffect(() => {
    let socket: WebSocket | null = null;
    let stopped = false;
    const connect = () => {
      socket = new WebSocket(eventsUrl());
      socket.onmessage = (message) => setRun((state) => fold(state, JSON.parse(String(message.data))));
      socket.onclose = () => {
        if (!stopped) window.setTimeout(connect, 1000);
      };
    };
    connect();
    return () => {
      stopped = true;
      socket?.close();
    };
  }, []);

  // The executor's own problem list, kept current while editing.
  useEffect(() => {
    if (workflow.nodes.length === 0) {
      setProblems([]);
      return;
    }
    const timer = window.setTimeout(() => {
            api.validate(workflow).then(
        (answer) => {
          setProblems(answer.problems);
          setValidation(answer);
        },
        (error: Error) => say(error.message, "error"),
      );
    }, 250);
    return () => window.clearTimeout(timer);
  }, [workflow]);

  // The table is checked again whenever the workflow changes: its rows run through this one.
  const tablePath = table?.table;
  useEffect(() => {
    if (!tablePath || workflow.nodes.length === 0) return;
    const timer = window.setTimeout(() => {
      api.rows(workflow, tablePath).then(setTable, (error: Error) => say(error.message, "error"));
    }, 250);
    return () => window.clearTimeout(timer);
  }, [workflow, tablePath]);

  const fitSoon = useCallback(() => {
    window.requestAnimationFrame(() => void flow.fitView({ padding: 0.12, maxZoom: 1 }));
  }, [flow]);

  const addNode = (spec: NodeSpec) => {
    const id = newNodeId(workflow, spec.type);
    const count = workflow.nodes.length;
    setWorkflow({ ...workflow, nodes: [...workflow.nodes, { id, type: spec.type, inputs: {} }] });
    setPositions({ ...positions, [id]: { x: 30 + (count % 4) * 290, y: 30 + Math.floor(count / 4) * 300 + (count % 2) * 40 } });
    setSelection({ kind: "node", id });
    fitSoon();
  };

  // The palette keeps one callback for its whole life, so typing in it or editing the
  // workflow never redraws its entries.
  const addRef = useRef(addNode);
  addRef.current = addNode;
  const onPaletteAdd = useCallback((spec: NodeSpec) => addRef.current(spec), []);

  const load = (next: Workflow) => {
    setWorkflow(next);
    setPositions(layout(next));
    setSelection(null);
    fitSoon();
  };

  // Canvas ---------------------------------------------------------------------------------
  const problemCount = (id: string) => problems.filter((problem) => problem.node === id).length;
  const nodes: CardNode[] = workflow.nodes.flatMap((node) => {
    const spec = specs.get(node.type);
    if (!spec) return [];
    return [
      {
        id: node.id,
        type: "card",
        position: positions[node.id] ?? { x: 0, y: 0 },
        measured: measured[node.id],
        selected: selection?.kind === "node" && selection.id === node.id,
        data: {
          id: node.id,
          spec,
          linked: Object.keys(node.inputs).filter((port) => referenceText(node.inputs[port]) !== null),
                    problems: problemCount(node.id),
          run: run.nodes[node.id],
          price: validation?.price?.nodes.find((priced) => priced.node === node.id)?.estimate,
        },
      },
    ];
  });
  const edges: Edge[] = links(workflow).map((link) => ({
    id: link.id,
    source: link.from.node,
    sourceHandle: link.from.port,
    target: link.to.node,
    targetHandle: link.to.port,
    label: link.from.path.length ? `.${link.from.path.join(".")}` : undefined,
    selected: selection?.kind === "edge" && selection.id === link.id,
    animated: run.active && run.nodes[link.to.node]?.state === "running",
  }));

  const portKey = (nodeId: string | null | undefined, side: "inputs" | "outputs", port: string | null | undefined) => {
    const node = workflow.nodes.find((candidate) => candidate.id === nodeId);
    const spec = node && specs.get(node.type);
    return spec?.ports[side].find((candidate) => candidate.name === port);
  };

  const fits = (connection: Connection | Edge) => {
    if (!catalog || connection.source === connection.target) return false;
    const given = portKey(connection.source, "outputs", connection.sourceHandle);
    const wanted = portKey(connection.target, "inputs", connection.targetHandle);
    return !!given && !!wanted && catalog.fits[given.key].includes(wanted.key);
  };
  const isValidConnection: IsValidConnection = (connection) => fits(connection);

  const onConnect = (connection: Connection) => {
    if (!fits(connection) || !connection.targetHandle || !connection.sourceHandle) return;
    setWorkflow(setInput(workflow, connection.target, connection.targetHandle, { $from: `${connection.source}.${connection.sourceHandle}` }));
    say(`connected ${connection.source}.${connection.sourceHandle} → ${connection.target}.${connection.targetHandle}`);
  };

  const onConnectEnd = (_event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
    if (state.isValid !== false || !state.toHandle || !state.fromHandle) return;
    const [from, to] = state.fromHandle.type === "source" ? [state.fromHandle, state.toHandle] : [state.toHandle, state.fromHandle];
    const given = portKey(from.nodeId, "outputs", from.id);
    const wanted = portKey(to.nodeId, "inputs", to.id);
    if (!given || !wanted) return;
    say(
      `refused: ${from.nodeId}.${from.id} gives ${given.label}, but ${to.nodeId}.${to.id} takes ${wanted.label}`,
      "error",
    );
  };

  const onNodesChange = (changes: NodeChange<CardNode>[]) => {
    let next = workflow;
    const moved = { ...positions };
    const sizes = { ...measured };
    for (const change of changes) {
      if (change.type === "dimensions" && change.dimensions) sizes[change.id] = change.dimensions;
      if (change.type === "position" && change.position) moved[change.id] = change.position;
      if (change.type === "select" && change.selected) setSelection({ kind: "node", id: change.id });
      if (change.type === "remove") next = removeNode(next, change.id);
    }
    setPositions(moved);
    setMeasured(sizes);
    if (next !== workflow) {
      setWorkflow(next);
      setSelection(null);
    }
  };

  const onEdgesChange = (changes: EdgeChange[]) => {
    let next = workflow;
    for (const change of changes) {
      if (change.type === "select" && change.selected) setSelection({ kind: "edge", id: change.id });
      if (change.type === "remove") {
        const [node, port] = change.id.split(".");
        next = setInput(next, node, port, undefined);
      }
    }
    if (next !== workflow) setWorkflow(next);
  };

  // Toolbar --------------------------------------------------------------------------------
  const openFile = async (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    try {
      const answer = await api.open(await file.text());
      load(answer.workflow);
      setSaveName(file.name.replace(/[^A-Za-z0-9._-]/g, "-"));
      // A node whose type this editor does not offer (e.g. a model missing from its catalog)
      // cannot be drawn; say so instead of leaving it out silently.
      const unknown = [...new Set(answer.workflow.nodes.map((node) => node.type).filter((type) => !specs.has(type)))];
      if (unknown.length) {
        say(`opened ${file.name}, but cannot draw ${unknown.join(", ")}: not a node type here (sync the model catalog, or start the editor with --catalog)`, "error");
      } else {
        say(`opened ${file.name}`);
      }
    } catch (error) {
      say((error as Error).message, "error");
    }
  };

  const save = async () => {
    try {
      const answer = await api.save(saveName, workflow);
      say(`saved ${answer.path}`);
    } catch (error) {
      say((error as Error).message, "error");
    }
  };

  const downloadJson = () => {
    const blob = new Blob([JSON.stringify(workflow, null, 2) + "\n"], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = saveName;
    link.click();
    URL.revokeObjectURL(link.href);
  };

  const validateNow = async () => {
        const answer = await api.validate(workflow);
    setProblems(answer.problems);
    setValidation(answer);
    say(answer.problems.length ? `${answer.problems.length} problem(s)` : "valid: ready to run");
  };

  // A table is stored in the workspace's uploads/ (as any chosen file), then checked whole.
  const loadTable = async (file: File) => {
    try {
      const stored = await api.storeFile(file);
      const check = await api.rows(workflow, stored.path);
      setTable(check);
      const refused = check.rows.filter((row) => row.problems.length > 0).length;
      if (check.problems.length || refused) {
        say(`${file.name}: the table cannot run; nothing was sent`, "error");
      } else {
        say(`${file.name}: ${check.rows.length} rows, every one valid`);
      }
    } catch (error) {
      say((error as Error).message, "error");
    }
  };
  const runsTable = showRows && table !== null;
  // The server refuses such a table too; the button says it first.
  const tableRefused = runsTable && (table.rows.length === 0 || table.problems.length > 0 || table.rows.some((row) => row.problems.length > 0));

  const start = async () => {
    try {
      const typed = runsTable ? maxCost.trim() : "";
      // A cap the user typed and that does not read as dollars is never taken for no cap.
      if (typed !== "" && !/^(\d+(\.\d*)?|\.\d+)$/.test(typed)) {
        say(`max $ "${typed}" is not an amount in dollars (such as 12.50); nothing was sent`, "error");
        return;
      }
      const cap = typed !== "" ? Number(typed) : undefined;
      await api.run(workflow, fresh, runsTable ? table.table : undefined, cap);
      say(runsTable ? `run of ${table.rows.length} rows started` : "run started");
    } catch (error) {
      if (error instanceof ApiError && Array.isArray(error.body.problems)) {
        setProblems(error.body.problems as unknown as Problem[]);
      }
      say((error as Error).message, "error");
    }
  };

  const cancel = async () => {
    await api.cancel();
    say("cancelling: queued tasks are cancelled, running ones killed");
  };

  // Inspector ------------------------------------------------------------------------------
  const selectedNode = selection?.kind === "node" ? workflow.nodes.find((node) => node.id === selection.id) : undefined;
  const selectedSpec = selectedNode && specs.get(selectedNode.type);
  const selectedLink = selection?.kind === "edge" ? links(workflow).find((link) => link.id === selection.id) : undefined;

  const onFormChange = useCallback(
    (formData: JsonObject, linked: Set<string>) => {
      setWorkflow((current) => {
        const node = current.nodes.find((candidate) => candidate.id === selection?.id);
        const spec = node && specs.get(node.type);
        if (!node || !spec) return current;
        const inputs = mergeFormData(node, spec, formData, linked);
        if (JSON.stringify(inputs) === JSON.stringify(node.inputs)) return current;
        return { ...current, nodes: current.nodes.map((candidate) => (candidate === node ? { ...node, inputs } : candidate)) };
      });
    },
    [selection, specs],
  );
  const onUnlink = useCallback(
    (port: string) => {
      if (selection?.kind === "node") setWorkflow((current) => setInput(current, selection.id, port, undefined));
    },
    [selection],
  );

  return (
    <div className="app">
      <header className="toolbar">
        <span className="brand">wiro-nodes editor</span>
        <button onClick={() => openInput.current?.click()}>Open…</button>
        <input ref={openInput} type="file" accept=".json,application/json" hidden data-testid="open-input" onChange={(event) => void openFile(event.target.files)} />
        <input className="save-name" value={saveName} onChange={(event) => setSaveName(event.target.value)} data-testid="save-name" />
        <button onClick={() => void save()} data-testid="save">
          Save
        </button>
        <button onClick={downloadJson}>Download JSON</button>
        <button onClick={() => void validateNow()} data-testid="validate">
          Validate
        </button>
        <span className={`problem-count ${problems.length ? "bad" : "good"}`} data-testid="problem-count" onClick={() => setSelection(null)}>
                    {problems.length ? `${problems.length} problem${problems.length > 1 ? "s" : ""}` : "valid"}
        </span>
        {problems.length === 0 && validation?.price && validation.price.nodes.length > 0 && (
          <span className="estimate" data-testid="estimate" title="if every paid task succeeds; failed tasks are not billed">
            {typeof validation.total === "number" ? `estimate ${money(validation.total)}` : "estimate unknown"}
          </span>
        )}
        <label className="fresh" title="Forget the journal and run every node again (submits new, paid tasks)">
          <input type="checkbox" checked={fresh} onChange={(event) => setFresh(event.target.checked)} /> fresh
        </label>
        <button className={showRows ? "active" : ""} onClick={() => setShowRows(!showRows)} data-testid="rows-toggle" title="Run this workflow once per row of a table (CSV, TSV, JSON Lines)">
          Rows
        </button>
        <button className="primary" onClick={() => void start()} disabled={run.active || tableRefused} data-testid="run">
          {runsTable ? `Run ${table.rows.length} rows` : "Run"}
        </button>
        <button className="danger" onClick={() => void cancel()} disabled={!run.active} data-testid="cancel">
          Cancel
        </button>
        <span className="spent">spent {money(run.spent)}</span>
        <span className="backend" title={session ? `workspace ${session.workspace}, outputs ${session.out}` : ""}>
          {session?.backend ?? ""}
        </span>
      </header>
      {notice && (
        <div className={`notice ${notice.kind}`} data-testid="notice" onClick={() => setNotice(null)}>
          {notice.text}
        </div>
      )}
      <Palette nodes={paletteNodes} onAdd={onPaletteAdd} />
      <main className="canvas">
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onNodesChange={onNodesChange}
          onEdgesChange={onEdgesChange}
          onConnect={onConnect}
          onConnectEnd={onConnectEnd}
          isValidConnection={isValidConnection}
          onPaneClick={() => setSelection(null)}
          deleteKeyCode={["Delete"]}
          minZoom={0.3}
          maxZoom={1.5}
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={20} />
          <Controls showInteractive={false} />
        </ReactFlow>
      </main>
      <aside className="inspector" data-testid="inspector">
        {selectedNode && selectedSpec ? (
          <>
            <h2>{selectedSpec.title}</h2>
            <p className="muted">{selectedSpec.description}</p>
            <NodeIdField
              id={selectedNode.id}
              onRename={(to) => {
                if (!/^[A-Za-z0-9_-]+$/.test(to) || workflow.nodes.some((node) => node.id === to)) {
                  say(`cannot rename to ${to}: ids are letters, digits, - and _, and unique`, "error");
                  return;
                }
                setWorkflow(renameNode(workflow, selectedNode.id, to));
                setPositions({ ...positions, [to]: positions[selectedNode.id] });
                setSelection({ kind: "node", id: to });
              }}
            />
            <NodeForm
              spec={selectedSpec}
              node={selectedNode}
              problems={problems.filter((problem) => problem.node === selectedNode.id)}
              onChange={onFormChange}
              onUnlink={onUnlink}
            />
            <button
              className="danger small"
              data-testid="delete-node"
              onClick={() => {
                setWorkflow(removeNode(workflow, selectedNode.id));
                setSelection(null);
              }}
            >
              Delete node
            </button>
          </>
        ) : selectedLink ? (
          <EdgeEditor
            key={selectedLink.id}
            text={[selectedLink.from.node, selectedLink.from.port, ...selectedLink.from.path].join(".")}
            target={`${selectedLink.to.node}.${selectedLink.to.port}`}
            onApply={async (text) => {
              const reference = parseReference(text);
              const source = reference && workflow.nodes.find((node) => node.id === reference.node);
              const target = workflow.nodes.find((node) => node.id === selectedLink.to.node);
              if (!reference || !source || !target) {
                say(`${text}: not a reference to a node of this workflow (node.port.field...)`, "error");
                return;
              }
              const answer = await api.fits({
                from_type: source.type,
                from_port: reference.port,
                path: reference.path,
                to_type: target.type,
                to_port: selectedLink.to.port,
              });
              if (answer.error || !answer.fits) {
                say(answer.error ?? `refused: ${text} gives ${answer.given}, but ${selectedLink.to.port} takes ${answer.wanted}`, "error");
                return;
              }
              setWorkflow(setInput(workflow, target.id, selectedLink.to.port, { $from: text }));
              setSelection({ kind: "edge", id: selectedLink.id });
              say(`${selectedLink.to.node}.${selectedLink.to.port} now takes ${text} (${answer.given})`);
            }}
          />
        ) : (
          <WorkflowSummary workflow={workflow} problems={problems} onPick={(id) => setSelection({ kind: "node", id })} setWorkflow={setWorkflow} />
        )}
      </aside>
      {showRows ? (
        <RowsPanel
          table={table}
          run={run}
          maxCost={maxCost}
          onMaxCost={setMaxCost}
          onLoad={(file) => void loadTable(file)}
          onClose={() => {
            setTable(null);
            setShowRows(false);
          }}
        />
      ) : (
        <RunPanel run={run} workflow={workflow} />
      )}
    </div>
  );
}
