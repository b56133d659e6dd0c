const alphabet = 128;

/**
 * An Aho-Corasick automaton over lower-case ASCII keywords: one pass over a text reports which
 * keywords occur in it, whatever their number. Characters outside ASCII return to the root.
 * Each keyword carries a list of ids (the rules it unlocks).
 */
export class KeywordAutomaton {
  private readonly transitions: Int32Array;
  // Characters that occur in no keyword share class 0, so rows hold one entry per class.
  private readonly classOf: Uint8Array;
  private readonly classes: number;
  // outputs[state] lists the ids of every keyword that ends at this state (including suffixes).
  private readonly outputs: (readonly number[] | undefined)[];
  readonly keywordCount: number;

  constructor(keywords: ReadonlyMap<string, readonly number[]>) {
    const classOf = new Uint8Array(alphabet);
    let classes = 1;
    for (const keyword of keywords.keys()) {
      for (let index = 0; index < keyword.length; index++) {
        const code = keyword.charCodeAt(index);
        if (code >= alphabet) throw new Error(`keyword ${JSON.stringify(keyword)} is not ASCII`);
        if (classOf[code] === 0) classOf[code] = classes++;
      }
    }
    // The trie, in the transition table itself: a state has at most one more state per keyword
    // character, so the table is allocated once; 0 means "no child yet" (no edge leads to the root).
    let maximumStates = 1;
    for (const keyword of keywords.keys()) maximumStates += keyword.length;
    const trie = new Int32Array(maximumStates * classes);
    // outputs[state]: ids of keywords ending there; undefined for most states (no allocation).
    const outputs: (number[] | undefined)[] = [undefined];
    for (const [keyword, ids] of keywords) {
      let state = 0;
      for (let index = 0; index < keyword.length; index++) {
        const key = state * classes + (classOf[keyword.charCodeAt(index)] as number);
        let next = trie[key] as number;
        if (next === 0) {
          next = outputs.length;
          trie[key] = next;
          outputs.push(undefined);
        }
        state = next;
      }
      outputs[state] = [...(outputs[state] ?? []), ...ids];
    }
    // Breadth-first: complete the transition table with failure links.
    const stateCount = outputs.length;
    const transitions = trie.subarray(0, stateCount * classes);
    const fail = new Int32Array(stateCount);
    const queue: number[] = [];
    for (let symbol = 1; symbol < classes; symbol++) {
      const next = transitions[symbol] as number;
      if (next !== 0) queue.push(next);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      const failState = fail[state] as number;
      const inherited = outputs[failState];
      if (inherited !== undefined) outputs[state] = [...(outputs[state] ?? []), ...inherited];
      const row = state * classes;
      const failRow = failState * classes;
      for (let symbol = 1; symbol < classes; symbol++) {
        const next = transitions[row + symbol] as number;
        if (next === 0) {
          transitions[row + symbol] = transitions[failRow + symbol] as number;
        } else {
          fail[next] = transitions[failRow + symbol] as number;
          queue.push(next);
        }
      }
    }
    this.transitions = transitions;
    this.classOf = classOf;
    this.classes = classes;
    this.outputs = outputs.map((ids) => (ids !== undefined ? [...new Set(ids)] : undefined));
    this.keywordCount = keywords.size;
  }

  /** Sets `hits[id] = 1` for every id whose keyword occurs in `text`. */
  markMatches(text: string, hits: Uint8Array): void {
    this.collectPositions(text, hits, undefined, 0);
  }

  /**
   * One pass over `text`: marks every id whose keyword occurs and, when `positions` is given,
   * appends to `positions[id]` the index just past each occurrence, at most `cap` of them (a list
   * that reaches the cap means "too many to be worth windowing").
   */
  collectPositions(text: string, hits: Uint8Array, positions: number[][] | undefined, cap: number): void {
    const { transitions, outputs, classOf, classes } = this;
    const length = text.length;
    let state = 0;
    for (let index = 0; index < length; index++) {
      const code = text.charCodeAt(index);
      // Class 0 (a character in no keyword, or non-ASCII) always leads back to the root.
      state = code < alphabet ? (transitions[state * classes + (classOf[code] as number)] as number) : 0;
      const ids = outputs[state];
      if (ids === undefined) continue;
      for (const id of ids) {
        hits[id] = 1;
        if (positions === undefined) continue;
        const list = positions[id] as number[];
        if (list.length < cap && list[list.length - 1] !== index + 1) list.push(index + 1);
      }
    }
  }
}
