/**
 * MQTT-style topics: levels separated by `/`; in patterns `+` matches one level and a final `#`
 * matches any number of levels, zero included (`a/#` matches `a`). Topics starting with `$`
 * are reserved for the server's own routing and cannot be used by clients.
 */

export const MAX_TOPIC_LENGTH = 256;
export const MAX_TOPIC_LEVELS = 16;

// Control characters in a topic are always a bug or an attack, never a name.
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f]/;

function checkCommon(value: string, what: string): string | undefined {
  if (value.length === 0) return `${what} is empty`;
  if (value.length > MAX_TOPIC_LENGTH) return `${what} is longer than ${MAX_TOPIC_LENGTH} chars`;
  if (FORBIDDEN_CHARS.test(value)) return `${what} contains control characters`;
  if (value.startsWith('$')) return `${what} starts with the reserved '$'`;
  const levels = value.split('/');
  if (levels.length > MAX_TOPIC_LEVELS) return `${what} has more than ${MAX_TOPIC_LEVELS} levels`;
  if (levels.some((level) => level.length === 0)) return `${what} has an empty level`;
  return undefined;
}

/** Why `topic` is not a valid concrete topic, or undefined when it is. */
export function topicProblem(topic: string): string | undefined {
  const problem = checkCommon(topic, 'topic');
  if (problem) return problem;
  if (/[+#]/.test(topic)) return "topic contains a wildcard ('+' or '#')";
  return undefined;
}

/** What the edge itself publishes under a device: `devices/<id>/<level>` and below. */
const EDGE_LEVELS = new Set(['presence', 'state', 'commands', 'answers', 'streams']);

/**
 * Whether only the edge publishes on `topic`: a device's presence, state document, commands
 * (as MQTT carries them), command answers and stream relays. A client's `publish` there would
 * pass for the edge's own message (over MQTT nothing tells them apart), so none is taken,
 * whatever the ACL says.
 */
export function isEdgeTopic(topic: string): boolean {
  const levels = topic.split('/', 4);
  return levels[0] === 'devices' && levels.length >= 3 && EDGE_LEVELS.has(levels[2] as string);
}

/** Why `pattern` is not a valid subscription pattern, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  const problem = checkCommon(pattern, 'pattern');
  if (problem) return problem;
  const levels = pattern.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level === '#' && i !== levels.length - 1) return "'#' is allowed only as the last level";
    if (level !== '+' && level !== '#' && /[+#]/.test(level)) {
      return "a wildcard must fill a whole level ('a/+/b', not 'a/x+/b')";
    }
  }
  return undefined;
}

export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  for (let i = 0; i < p.length; i++) {
    const level = p[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return p.length === t.length;
}

/** True when every topic that `requested` matches is also matched by `allowed`. */
export function patternCovers(allowed: string, requested: string): boolean {
  const a = allowed.split('/');
  const r = requested.split('/');
  for (let i = 0; i < a.length; i++) {
    const level = a[i];
    if (level === '#') return true;
    if (i >= r.length) return false;
    const want = r[i];
    if (want === '#') return false;
    if (want === '+') {
      if (level !== '+') return false;
    } else if (level !== '+' && level !== want) {
      return false;
    }
  }
  return a.length === r.length;
}

interface TrieNode {
  children: Map<string, TrieNode>;
  /** The pattern ending at this node, with how many holders it has. */
  pattern?: string;
  count: number;
}

function node(): TrieNode {
  return { children: new Map(), count: 0 };
}

/**
 * The set of patterns subscribed somewhere, with reference counts, answering "which patterns
 * match this topic" without scanning them all.
 */
export class PatternIndex {
  private readonly root = node();
  private size_ = 0;

  /** Number of distinct patterns held. */
  get size(): number {
    return this.size_;
  }

  /** Adds one holder of `pattern`; true when the pattern is new to the index. */
  add(pattern: string): boolean {
    let current = this.root;
    for (const level of pattern.split('/')) {
      let next = current.children.get(level);
      if (!next) {
        next = node();
        current.children.set(level, next);
      }
      current = next;
    }
    current.pattern = pattern;
    current.count += 1;
    if (current.count === 1) this.size_ += 1;
    return current.count === 1;
  }

  /** Removes one holder of `pattern`; true when its last holder left. */
  remove(pattern: string): boolean {
    const path: [TrieNode, string][] = [];
    let current = this.root;
    for (const level of pattern.split('/')) {
      const next = current.children.get(level);
      if (!next) return false;
      path.push([current, level]);
      current = next;
    }
    if (current.count === 0) return false;
    current.count -= 1;
    if (current.count > 0) return false;
    delete current.pattern;
    this.size_ -= 1;
    // Prune now-empty branches so the index does not grow with churn.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i] as [TrieNode, string];
      const child = parent.children.get(level) as TrieNode;
      if (child.count > 0 || child.children.size > 0) break;
      parent.children.delete(level);
    }
    return true;
  }

  count(pattern: string): number {
    let current: TrieNode | undefined = this.root;
    for (const level of pattern.split('/')) {
      current = current.children.get(level);
      if (!current) return 0;
    }
    return current.count;
  }

  /** Trie nodes below the root: zero once every pattern is removed (no growth with churn). */
  nodeCount(): number {
    const countBelow = (current: TrieNode): number =>
      [...current.children.values()].reduce((sum, child) => sum + 1 + countBelow(child), 0);
    return countBelow(this.root);
  }

  /** The held patterns that match the concrete `topic`. */
  match(topic: string): string[] {
    const levels = topic.split('/');
    const found: string[] = [];
    const walk = (current: TrieNode, i: number): void => {
      const hash = current.children.get('#');
      if (hash?.pattern !== undefined) found.push(hash.pattern);
      if (i === levels.length) {
        if (current.pattern !== undefined) found.push(current.pattern);
        return;
      }
      const exact = current.children.get(levels[i] as string);
      if (exact) walk(exact, i + 1);
      const plus = current.children.get('+');
      if (plus) walk(plus, i + 1);
    };
    walk(this.root, 0);
    return found;
  }
}
