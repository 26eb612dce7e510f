// A node on the canvas: its title and id, an input handle per input port on the left and an
// output handle per output port on the right, each with the port's shared type name.

import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import type { Estimate, NodeSpec } from "./api";
import { money, type NodeRun } from "./runState";

export type CardData = {
  id: string;
  spec: NodeSpec;
  linked: string[];
    problems: number;
  run?: NodeRun;
  /** The node's price, once the workflow validates. */
  price?: Estimate;
};

export type CardNode = Node<CardData, "card">;



/** A badge for paid nodes: the estimate from the model's published prices once the workflow
 * validates (the same figure `wiro-nodes validate` prints), else "paid". */
export function PriceBadge({ spec, price }: { spec: NodeSpec; price?: Estimate }) {
  if (!spec.spends_money) return null;
  if (!price) return <span className="badge paid" title="Running it starts a paid task">paid</span>;
  if (price.kind === "unknown")
    return (
      <span className="badge paid" title={`price unknown: ${price.reason}`} data-testid="price">
        paid · price unknown
      </span>
    );
  return (
    <span className="badge price" title={price.basis} data-testid="price">
      {money(price.usd)}
    </span>
  );
}

export function NodeCard({ data, selected }: NodeProps<CardNode>) {
  const { spec, run } = data;
  const status = run?.status ?? "";
  return (
    <div className={`card ${selected ? "selected" : ""} status-${run?.state ?? "idle"}`} data-testid={`node-${data.id}`}>
      <div className="card-head">
        <span className="card-title">{spec.title}</span>
                <PriceBadge spec={spec} price={data.price} />
      </div>
      <div className="card-id">
        {data.id} <span className="muted">{spec.type}</span>
      </div>
      <div className="ports">
        <div className="port-column">
          {spec.ports.inputs.map((port) => (
            <div className={`port in ${data.linked.includes(port.name) ? "linked" : ""}`} key={port.name}>
              <Handle
                type="target"
                position={Position.Left}
                id={port.name}
                data-testid={`in-${data.id}-${port.name}`}
                className="handle"
              />
              <span className="port-name">
                {port.name}
                {port.required ? "*" : ""}
              </span>
              <span className="port-type">{port.label}</span>
            </div>
          ))}
        </div>
        <div className="port-column out">
          {spec.ports.outputs.map((port) => (
            <div className="port out" key={port.name}>
              <span className="port-type">{port.label}</span>
              <span className="port-name">{port.name}</span>
              <Handle
                type="source"
                position={Position.Right}
                id={port.name}
                data-testid={`out-${data.id}-${port.name}`}
                className="handle"
              />
            </div>
          ))}
        </div>
      </div>
      {(run || data.problems > 0) && (
        <div className="card-foot">
          {data.problems > 0 && <span className="badge problem">{data.problems} problem{data.problems > 1 ? "s" : ""}</span>}
          {run && (
            <span className={`run-state ${run.state}`} data-testid={`state-${data.id}`}>
              {run.state}
              {status ? ` · ${status}` : ""}
            </span>
          )}
        </div>
      )}
    </div>
  );
}
