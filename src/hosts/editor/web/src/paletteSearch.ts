// The palette's search and grouping, apart from drawing: a query is words in any order, each
// found (case-insensitively) in a node type's title, type id or description; the matches are
// grouped by category in a fixed order. Pure functions over the specs, so typing in the search
// box costs one pass over prepared lowercase texts, however many node types there are.

import type { NodeSpec } from "./api";

/** Categories in this order; any other category follows, by name. */
const ORDER = ["files", "models", "tasks", "outputs"];

/** A spec with the text the search looks in, lowercased once. */
export interface Entry {
  spec: NodeSpec;
  /** Title and type id. */
  head: string;
  /** Title, type id and description. */
  text: string;
}

export interface Group {
  category: string;
  /** Every node type of the category. */
  total: number;
  /** The ones the query matches (all of them for an empty query). */
  matches: Entry[];
}

export function prepare(nodes: NodeSpec[]): Entry[] {
  return nodes.map((spec) => {
    const head = `${spec.title}\n${spec.type}`.toLowerCase();
    return { spec, head, text: `${head}\n${spec.description.toLowerCase()}` };
  });
}

/** The query's words, lowercased; none for a blank query. */
export function words(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

function rank(category: string): number {
  const at = ORDER.indexOf(category);
  return at === -1 ? ORDER.length : at;
}

/** The entries grouped by category (fixed order), each group with the query's matches: those
 * whose title or type id holds every word first, then those that need the description. */
export function search(entries: Entry[], query: string): Group[] {
  const wanted = words(query);
  const groups = new Map<string, Group>();
  for (const entry of entries) {
    const category = entry.spec.category;
    let group = groups.get(category);
    if (!group) groups.set(category, (group = { category, total: 0, matches: [] }));
    group.total += 1;
    if (wanted.every((word) => entry.text.includes(word))) group.matches.push(entry);
  }
  if (wanted.length) {
    const inHead = (entry: Entry) => (wanted.every((word) => entry.head.includes(word)) ? 0 : 1);
    for (const group of groups.values()) {
      group.matches = group.matches
        .map((entry, at) => ({ entry, at, rank: inHead(entry) }))
        .sort((a, b) => a.rank - b.rank || a.at - b.at)
        .map(({ entry }) => entry);
    }
  }
  return [...groups.values()].sort((a, b) => rank(a.category) - rank(b.category) || a.category.localeCompare(b.category));
}
