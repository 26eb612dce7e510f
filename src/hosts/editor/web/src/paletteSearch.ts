// The palette's search and grouping, apart from drawing: a query is words in any order, each
// found (case-insensitively) in a node type's title, type id or description; the matches are
// grouped by category in a fixed order. Pure functions over the specs, so typing in the search
// box costs one pass over prepared lowercase texts, however many node types there are.

import type { NodeSpec } from "./api";

/** Categories in this order; any other category follows, by name. */
const ORDER = ["files", "models", "tasks", "outputs"];

/** A spec with the texts the search looks in, lowercased once. */
export interface Entry {
  spec: NodeSpec;
  title: string;
  type: string;
  /** Title, type id and description. */
  text: string;
}

export interface Group {
  category: string;
  /** Every node type of the category. */
  total: number;
  /** The ones the query matches (all of them for an empty query), best first. */
  matches: Entry[];
}

export function prepare(nodes: NodeSpec[]): Entry[] {
  return nodes.map((spec) => {
    const title = spec.title.toLowerCase();
    const type = spec.type.toLowerCase();
    return { spec, title, type, text: `${title}\n${type}\n${spec.description.toLowerCase()}` };
  });
}

/** The query's words, lowercased; none for a blank query. */
export function words(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

/** How well an entry matches (lower is better), or null when it does not: 0 when the query is
 * the whole title or type id (or its name after the owner), 1 when the title and type id hold
 * every word, 2 when the description is needed. */
export function rank(entry: Entry, wanted: string[]): number | null {
  if (!wanted.every((word) => entry.text.includes(word))) return null;
  const phrase = wanted.join(" ");
  if (entry.title === phrase || entry.type === phrase || entry.type.endsWith(`/${phrase}`)) return 0;
  const head = `${entry.title}\n${entry.type}`;
  return wanted.every((word) => head.includes(word)) ? 1 : 2;
}

function order(category: string): number {
  const at = ORDER.indexOf(category);
  return at === -1 ? ORDER.length : at;
}

/** The entries grouped by category (fixed order), each group with the query's matches, best
 * first (by [`rank`], then in the server's order). */
export function search(entries: Entry[], query: string): Group[] {
  const wanted = words(query);
  const groups = new Map<string, Group & { ranked: { entry: Entry; rank: number }[] }>();
  for (const entry of entries) {
    const category = entry.spec.category;
    let group = groups.get(category);
    if (!group) groups.set(category, (group = { category, total: 0, matches: [], ranked: [] }));
    group.total += 1;
    const score = rank(entry, wanted);
    if (score !== null) group.ranked.push({ entry, rank: score });
  }
  return [...groups.values()]
    .sort((a, b) => order(a.category) - order(b.category) || a.category.localeCompare(b.category))
    .map(({ category, total, ranked }) => ({
      category,
      total,
      // Array.prototype.sort is stable: equal ranks keep the server's order.
      matches: ranked.sort((a, b) => a.rank - b.rank).map(({ entry }) => entry),
    }));
}

/** The best match of all categories (what Enter in the search box adds), or undefined. */
export function best(entries: Entry[], query: string): Entry | undefined {
  const wanted = words(query);
  let found: { entry: Entry; rank: number } | undefined;
  for (const group of search(entries, query)) {
    for (const entry of group.matches) {
      const score = rank(entry, wanted) ?? 3;
      if (!found || score < found.rank) found = { entry, rank: score };
    }
  }
  return found?.entry;
}
