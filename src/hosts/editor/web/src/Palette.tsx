// Every node type the server publishes, grouped by category.

import type { NodeSpec } from "./api";
import { PriceBadge } from "./NodeCard";

const ORDER = ["files", "models", "tasks", "outputs"];

export function Palette({ nodes, onAdd }: { nodes: NodeSpec[]; onAdd: (spec: NodeSpec) => void }) {
  const categories = [...new Set(nodes.map((spec) => spec.category))].sort(
    (a, b) => (ORDER.indexOf(a) + 99) % 100 - ((ORDER.indexOf(b) + 99) % 100) || a.localeCompare(b),
  );
  return (
    <aside className="palette">
      {categories.map((category) => (
        <section key={category}>
          <h3>{category}</h3>
          {nodes
            .filter((spec) => spec.category === category)
            .map((spec) => (
              <button
                key={spec.type}
                className="palette-item"
                data-testid={`palette-${spec.type}`}
                title={spec.description}
                onClick={() => onAdd(spec)}
              >
                <span className="palette-title">
                  {spec.title} <PriceBadge spec={spec} />
                </span>
                <span className="palette-type">{spec.type}</span>
                <span className="palette-description">{spec.description}</span>
              </button>
            ))}
        </section>
      ))}
    </aside>
  );
}
