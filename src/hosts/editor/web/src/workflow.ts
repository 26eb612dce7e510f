// The workflow as the CLI runs it is the editor's only model: nodes keep their order, inputs
// keep their keys and values (references included), so opening and saving changes nothing.
// Canvas positions are not part of the format; they live beside it.

import type { Json, JsonObject, NodeSpec, Workflow, WorkflowNode } from "./api";

export interface Reference {
  node: string;
  port: string;
  path: string[];
}

/** The reference text of `{"$from": "..."}` exactly, else null. */
export function referenceText(value: Json | undefined): string | null {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$from" && typeof value.$from === "string") return value.$from;
  }
  return null;
}

export function parseReference(text: string): Reference | null {
  const parts = text.split(".");
  if (parts.length < 2 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) return null;
  return { node: parts[0], port: parts[1], path: parts.slice(2) };
}

export function referenceOf(value: Json | undefined): Reference | null {
  const text = referenceText(value);
  return text === null ? null : parseReference(text);
}

/** Edges: every input port whose whole value is a reference. */
export interface Link {
  id: string;
  from: Reference;
  to: { node: string; port: string };
}

export function links(workflow: Workflow): Link[] {
  const found: Link[] = [];
  for (const node of workflow.nodes) {
    for (const [port, value] of Object.entries(node.inputs)) {
      const reference = referenceOf(value);
      if (reference) found.push({ id: `${node.id}.${port}`, from: reference, to: { node: node.id, port } });
    }
  }
  return found;
}

/** A fresh node id from the type: `wiro/task.wait` → `wait`, then `wait-2`, ... */
export function newNodeId(workflow: Workflow, typeId: string): string {
  const tail = typeId.split("/").pop() ?? "node";
  const base = (tail.split(".").pop() ?? tail).replace(/[^A-Za-z0-9_-]/g, "-") || "node";
  const taken = new Set(workflow.nodes.map((node) => node.id));
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}-${n}`)) return `${base}-${n}`;
}

export function replaceNode(workflow: Workflow, id: string, change: (node: WorkflowNode) => WorkflowNode): Workflow {
  return { ...workflow, nodes: workflow.nodes.map((node) => (node.id === id ? change(node) : node)) };
}

export function setInput(workflow: Workflow, id: string, port: string, value: Json | undefined): Workflow {
  return replaceNode(workflow, id, (node) => {
    const inputs: JsonObject = { ...node.inputs };
    if (value === undefined) delete inputs[port];
    else inputs[port] = value;
    return { ...node, inputs };
  });
}

/** Removes a node and every reference to it. */
export function removeNode(workflow: Workflow, id: string): Workflow {
  return {
    ...workflow,
    nodes: workflow.nodes
      .filter((node) => node.id !== id)
      .map((node) => {
        const inputs: JsonObject = {};
        for (const [port, value] of Object.entries(node.inputs)) {
          if (referenceOf(value)?.node !== id) inputs[port] = value;
        }
        return { ...node, inputs };
      }),
  };
}

/** Renames a node and the references to it. */
export function renameNode(workflow: Workflow, from: string, to: string): Workflow {
  const rewrite = (value: Json): Json => {
    const text = referenceText(value);
    if (text !== null) return text.startsWith(`${from}.`) ? { $from: to + text.slice(from.length) } : value;
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, rewrite(inner)]));
    }
    return value;
  };
  return {
    ...workflow,
    nodes: workflow.nodes.map((node) => ({
      ...node,
      id: node.id === from ? to : node.id,
      inputs: rewrite(node.inputs) as JsonObject,
    })),
  };
}

function same(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The node's literal inputs after a form change. The form shows schema defaults; a default the
 * file did not hold is not written into it (that would change the node's journal key), keys the
 * file held keep their place, and references are kept as they are.
 */
export function mergeFormData(node: WorkflowNode, spec: NodeSpec, formData: JsonObject, linked: Set<string>): JsonObject {
  const properties = (spec.inputs.properties ?? {}) as Record<string, JsonObject>;
  const inputs: JsonObject = {};
  for (const [port, value] of Object.entries(node.inputs)) {
    if (linked.has(port)) {
      inputs[port] = value;
      continue;
    }
    const next = formData[port];
    if (next !== undefined) inputs[port] = next;
  }
  for (const [port, value] of Object.entries(formData)) {
    if (port in inputs || linked.has(port) || value === undefined || port in node.inputs) continue;
    if ("default" in (properties[port] ?? {}) && same(value, properties[port].default)) continue;
    inputs[port] = value;
  }
  return inputs;
}

/** Positions for nodes that have none: columns by depth along the references. */
export function layout(workflow: Workflow): Record<string, { x: number; y: number }> {
  const depth: Record<string, number> = {};
  const byId = new Map(workflow.nodes.map((node) => [node.id, node]));
  const visit = (id: string, seen: Set<string>): number => {
    if (depth[id] !== undefined) return depth[id];
    if (seen.has(id)) return 0;
    seen.add(id);
    const node = byId.get(id);
    let d = 0;
    for (const value of Object.values(node?.inputs ?? {})) {
      const reference = referenceOf(value);
      if (reference && byId.has(reference.node)) d = Math.max(d, visit(reference.node, seen) + 1);
    }
    depth[id] = d;
    return d;
  };
  const rows: Record<number, number> = {};
  const positions: Record<string, { x: number; y: number }> = {};
  for (const node of workflow.nodes) {
    const d = visit(node.id, new Set());
    const row = rows[d] ?? 0;
    rows[d] = row + 1;
    positions[node.id] = { x: 40 + d * 300, y: 40 + row * 220 };
  }
  return positions;
}
