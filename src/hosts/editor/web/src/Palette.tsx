// Every node type the server publishes, grouped by category: a search box (words in any
// order, in the title, type id or description), categories that fold (a large one, such as
// hundreds of catalog models, starts folded), and at most a page of entries drawn per
// category, so the palette stays quick with hundreds of node types. Enter in the search box
// adds the best match; Escape clears it.

import { memo, useDeferredValue, useMemo, useState } from "react";
import type { NodeSpec } from "./api";
import { PriceBadge } from "./NodeCard";
import { best, prepare, search, words, type Group } from "./paletteSearch";

/** A category with more entries than this starts folded. */
const FOLD_OVER = 30;
/** Entries drawn per category at first, and how many more each "show more" draws. */
const PAGE = 40;

const PaletteItem = memo(function PaletteItem({ spec, onAdd }: { spec: NodeSpec; onAdd: (spec: NodeSpec) => void }) {
  return (
    <button
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
  );
});

function Category(props: {
  group: Group;
  searching: boolean;
  open: boolean;
  onToggle: () => void;
  onAdd: (spec: NodeSpec) => void;
}) {
  const { group, searching, open, onToggle, onAdd } = props;
  const [shown, setShown] = useState(PAGE);
  const count = searching ? `${group.matches.length} of ${group.total}` : String(group.total);
  const rest = group.matches.length - shown;
  return (
    <section className="palette-category" data-testid={`palette-category-${group.category}`}>
      <h3>
        <button
          className="palette-fold"
          aria-expanded={open}
          data-testid={`palette-fold-${group.category}`}
          onClick={onToggle}
          disabled={searching}
          title={searching ? "every category with a match is open while searching" : open ? "fold" : "unfold"}
        >
          <span className="fold-mark">{open ? "▾" : "▸"}</span> {group.category}{" "}
          <span className="palette-count" data-testid={`palette-count-${group.category}`}>
            {count}
          </span>
        </button>
      </h3>
      {open &&
        group.matches.slice(0, shown).map((entry) => <PaletteItem key={entry.spec.type} spec={entry.spec} onAdd={onAdd} />)}
      {open && rest > 0 && (
        <button className="palette-more small" data-testid={`palette-more-${group.category}`} onClick={() => setShown(shown + PAGE)}>
          show {Math.min(rest, PAGE)} more of {rest}
        </button>
      )}
    </section>
  );
}

export const Palette = memo(function Palette({ nodes, onAdd }: { nodes: NodeSpec[]; onAdd: (spec: NodeSpec) => void }) {
  const [query, setQuery] = useState("");
  // The box shows every key at once; the list follows when React has time (no lag typing).
  const deferred = useDeferredValue(query);
  const [folded, setFolded] = useState<Record<string, boolean>>({});
  const entries = useMemo(() => prepare(nodes), [nodes]);
  const groups = useMemo(() => search(entries, deferred), [entries, deferred]);
  const searching = words(deferred).length > 0;
  const matches = groups.reduce((sum, group) => sum + group.matches.length, 0);
  const visible = searching ? groups.filter((group) => group.matches.length > 0) : groups;
  return (
    <aside className="palette">
      <div className="palette-search">
        <input
          type="text"
          role="searchbox"
          placeholder={`search ${nodes.length} node types`}
          value={query}
          data-testid="palette-search"
          aria-label="search node types"
          onChange={(event) => setQuery(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Escape") setQuery("");
            if (event.key !== "Enter" || words(query).length === 0) return;
            // Enter adds the best match for what is typed now (the list may lag a key behind).
            const first = best(entries, query);
            if (first) onAdd(first.spec);
          }}
        />
        {query && (
          <button className="small" data-testid="palette-search-clear" title="clear the search" onClick={() => setQuery("")}>
            ×
          </button>
        )}
      </div>
      <div className="palette-summary muted" data-testid="palette-summary" data-query={deferred}>
        {searching ? `${matches} of ${nodes.length} match` : `${nodes.length} node types`}
      </div>
      {visible.map((group) => (
        <Category
          // A new search starts each category at its first page.
          key={`${group.category}\n${deferred}`}
          group={group}
          searching={searching}
          open={searching || !(folded[group.category] ?? group.total > FOLD_OVER)}
          onToggle={() => setFolded({ ...folded, [group.category]: !(folded[group.category] ?? group.total > FOLD_OVER) })}
          onAdd={onAdd}
        />
      ))}
    </aside>
  );
});
