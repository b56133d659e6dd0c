const alphabet = 128;

/**
 * An Aho-Corasick automaton over lower-case ASCII keywords: one pass over a text reports which
 * keywords occur in it, whatever their number. Characters outside ASCII return to the root.
 * Each keyword carries a list of ids (the rules it unlocks).
 */
export class KeywordAutomaton {
  private readonly transitions: Int32Array;
  // outputs[state] lists the ids of every keyword that ends at this state (including suffixes).
  private readonly outputs: (readonly number[] | undefined)[];
  readonly keywordCount: number;

  constructor(keywords: ReadonlyMap<string, readonly number[]>) {
    const goto: number[][] = [new Array(alphabet).fill(-1)];
    const outputs: number[][] = [[]];
    for (const [keyword, ids] of keywords) {
      let state = 0;
      for (let index = 0; index < keyword.length; index++) {
        const code = keyword.charCodeAt(index);
        if (code >= alphabet) throw new Error(`keyword ${JSON.stringify(keyword)} is not ASCII`);
        const row = goto[state] as number[];
        let next = row[code] as number;
        if (next === -1) {
          next = goto.length;
          row[code] = next;
          goto.push(new Array(alphabet).fill(-1));
          outputs.push([]);
        }
        state = next;
      }
      (outputs[state] as number[]).push(...ids);
    }
    // Breadth-first: complete the transition table with failure links.
    const stateCount = goto.length;
    const transitions = new Int32Array(stateCount * alphabet);
    const fail = new Int32Array(stateCount);
    const queue: number[] = [];
    const root = goto[0] as number[];
    for (let code = 0; code < alphabet; code++) {
      const next = root[code] as number;
      if (next === -1) {
        transitions[code] = 0;
      } else {
        transitions[code] = next;
        fail[next] = 0;
        queue.push(next);
      }
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head] as number;
      const row = goto[state] as number[];
      const failState = fail[state] as number;
      const inherited = outputs[failState] as number[];
      if (inherited.length > 0) (outputs[state] as number[]).push(...inherited);
      for (let code = 0; code < alphabet; code++) {
        const next = row[code] as number;
        if (next === -1) {
          transitions[state * alphabet + code] = transitions[failState * alphabet + code] as number;
        } else {
          transitions[state * alphabet + code] = next;
          fail[next] = transitions[failState * alphabet + code] as number;
          queue.push(next);
        }
      }
    }
    this.transitions = transitions;
    this.outputs = outputs.map((ids) => (ids.length > 0 ? [...new Set(ids)] : undefined));
    this.keywordCount = keywords.size;
  }

  /** Sets `hits[id] = 1` for every id whose keyword occurs in `text`. */
  markMatches(text: string, hits: Uint8Array): void {
    const transitions = this.transitions;
    const outputs = this.outputs;
    let state = 0;
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code >= alphabet) {
        state = 0;
        continue;
      }
      state = transitions[state * alphabet + code] as number;
      const ids = outputs[state];
      if (ids !== undefined) {
        for (const id of ids) hits[id] = 1;
      }
    }
  }
}
