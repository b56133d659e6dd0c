import { type BuiltinDetector, builtinDetectors } from '../detect/builtins/index.js';
import { KeywordAutomaton } from '../detect/keyword-automaton.js';
import { iban, keywordInContext, luhn, minimumEntropy, type Validator } from '../detect/validators.js';
import { InvalidRulePackError, type RulePackIssue } from '../errors/invalid-rule-pack-error.js';
import { buildTextView } from '../normalize/text-view.js';
import { foldLikeWordsView } from '../normalize/words-view.js';
import type { Family, Severity } from '../types.js';
import type { LoadedRule } from './load-rule-packs.js';

export type ViewName = 'words' | 'text';

/**
 * How far from a keyword occurrence a match may reach, by default. Patterns run only on the
 * windows this leaves around their keywords; a rule whose matches can be longer sets `reach`.
 */
export const defaultReach = 320;

const wordsFamilies: ReadonlySet<Family> = new Set(['PI', 'JB', 'HC', 'RAG', 'TOOL']);

export interface CompiledPattern {
  regex: RegExp;
  /** The pattern has a named group `value` that narrows the span. */
  hasValue: boolean;
}

/** A rule ready to run. */
export interface CompiledRule {
  index: number;
  id: string;
  family: Family;
  name: string;
  description: string;
  severity: Severity;
  confidence: number;
  tags: readonly string[];
  view: ViewName;
  keywords: readonly string[];
  /** Characters around a keyword occurrence a match may span; Infinity = the whole input. */
  reach: number;
  patterns: readonly CompiledPattern[];
  validators: readonly Validator[];
  detector: BuiltinDetector | 'decoded-payload' | undefined;
  source: LoadedRule;
}

/** Rules plus the prefilter automata for each view. */
export interface CompiledRuleSet {
  rules: readonly CompiledRule[];
  /** Keyword automaton over the lower-cased text view, for `text` rules. */
  textAutomaton: KeywordAutomaton;
  /** Keyword automaton over the words view, for `words` rules. */
  wordsAutomaton: KeywordAutomaton;
  /** Pattern rules without keywords: they run on every input. */
  alwaysRun: readonly number[];
  /** Built-in detector rules (other than decoded-payload). */
  builtins: readonly number[];
  /** The rule raised for findings inside decoded segments, if the packs define one. */
  decodedPayloadRule: CompiledRule | undefined;
}

/** Compiles validated rules; a pattern that does not compile is an `InvalidRulePackError`. */
export function compileRules(loaded: readonly LoadedRule[], options: { verify: boolean } = { verify: true }): CompiledRuleSet {
  const issues: RulePackIssue[] = [];
  const rules: CompiledRule[] = [];
  for (const rule of loaded) {
    const view: ViewName = rule.view ?? (wordsFamilies.has(rule.family) ? 'words' : 'text');
    const issue = (path: string, message: string) => issues.push({ file: rule.file, ruleId: rule.id, path, message });
    if (view === 'words' && rule.flags) issue('flags', 'flags are for the text view only: the words view is already lower case');
    const patterns: CompiledPattern[] = [];
    (rule.patterns ?? []).forEach((source, index) => {
      try {
        const hasValue = /\(\?<value>/.test(source);
        const regex = new RegExp(source, `g${hasValue ? 'd' : ''}${rule.flags ?? ''}`);
        // Running a pattern compiles it; packs verified at build time stay lazy (cold start).
        if (options.verify && regex.test('')) issue(`patterns[${index}]`, 'the pattern matches the empty string');
        patterns.push({ regex, hasValue });
      } catch (error) {
        issue(`patterns[${index}]`, `does not compile: ${(error as Error).message}`);
      }
    });
    let detector: CompiledRule['detector'];
    if (rule.detector !== undefined) {
      detector = builtinDetectors[rule.detector];
      if (!detector) issue('detector', `unknown detector "${rule.detector}"; known: ${Object.keys(builtinDetectors).join(', ')}`);
      if (rule.keywords) issue('keywords', 'a detector rule takes no keywords');
    }
    const validators: Validator[] = (rule.validators ?? []).map((validator) => {
      if (validator === 'luhn') return luhn;
      if (validator === 'iban') return iban;
      if ('entropy' in validator) return minimumEntropy(validator.entropy);
      return keywordInContext(
        validator.context.words.map((word) => word.toLowerCase()),
        validator.context.window,
      );
    });
    // Keywords are folded like the view they are matched on (diacritics, look-alikes, case).
    const keywords = (rule.keywords ?? []).map((keyword) =>
      view === 'words' ? foldLikeWordsView(keyword) : buildTextView(keyword).text.toLowerCase(),
    );
    keywords.forEach((keyword, index) => {
      if (!/^[\x00-\x7f]+$/.test(keyword)) {
        issue(
          `keywords[${index}]`,
          `"${keyword}" keeps characters outside ASCII after folding; the prefilter cannot match it (write the rule without keywords)`,
        );
      }
    });
    rules.push({
      index: rules.length,
      id: rule.id,
      family: rule.family,
      name: rule.name,
      description: rule.description,
      severity: rule.severity,
      confidence: rule.confidence,
      tags: rule.tags,
      view,
      keywords,
      reach: rule.reach === 'all' || rule.keywords === undefined ? Number.POSITIVE_INFINITY : (rule.reach ?? defaultReach),
      patterns,
      validators,
      detector,
      source: rule,
    });
  }
  if (issues.length > 0) throw new InvalidRulePackError(issues);

  const textKeywords = new Map<string, number[]>();
  const wordsKeywords = new Map<string, number[]>();
  const alwaysRun: number[] = [];
  const builtins: number[] = [];
  let decodedPayloadRule: CompiledRule | undefined;
  for (const rule of rules) {
    if (rule.detector === 'decoded-payload') {
      decodedPayloadRule ??= rule;
      continue;
    }
    if (rule.detector) {
      builtins.push(rule.index);
      continue;
    }
    if (rule.keywords.length === 0) {
      alwaysRun.push(rule.index);
      continue;
    }
    const target = rule.view === 'words' ? wordsKeywords : textKeywords;
    for (const keyword of rule.keywords) {
      const ids = target.get(keyword) ?? [];
      ids.push(rule.index);
      target.set(keyword, ids);
    }
  }
  return {
    rules,
    textAutomaton: new KeywordAutomaton(textKeywords),
    wordsAutomaton: new KeywordAutomaton(wordsKeywords),
    alwaysRun,
    builtins,
    decodedPayloadRule,
  };
}
