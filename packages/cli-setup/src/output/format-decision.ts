import type { Action, Decision, Explanation } from '@palisade/core';
import type { Colors } from '../cli-io.js';
import { formatTable } from './format-table.js';

/** The colour of an action: red blocks, yellow for what needs attention, green allows. */
export function paintAction(action: Action, colors: Colors): string {
  const label = action.toUpperCase();
  switch (action) {
    case 'block':
      return colors.bold(colors.red(label));
    case 'escalate':
    case 'redact':
    case 'flag':
      return colors.bold(colors.yellow(label));
    case 'log':
      return colors.cyan(label);
    default:
      return colors.bold(colors.green(label));
  }
}

export interface FormatDecisionOptions {
  colors: Colors;
  /** The scanned text, for excerpts of what matched. */
  text?: string;
  /** Add the matched rules, suppressed detections, flags and the resolution chain. */
  explain?: Explanation;
}

// Families whose matched text is itself sensitive: never echoed to a terminal or a CI log.
const sensitiveFamilies = new Set(['PII', 'SEC']);

/**
 * A decision as a few labelled lines for a terminal. Matched text of personal data and secrets
 * is never printed; the redacted text is.
 *
 * @example
 * formatDecision(decision, { colors }) // 'BLOCK  Critical-severity detection\n  decided by  policy balanced › …'
 */
export function formatDecision(decision: Decision, options: FormatDecisionOptions): string {
  const { colors } = options;
  const label = (name: string) => colors.dim(name.padEnd(11));
  const lines = [`${paintAction(decision.action, colors)}  ${decision.reason}`];
  const by = decision.decidedBy;
  lines.push(`  ${label('decided by')} ${by.layer} ${by.policyId} › ${by.rule} (priority ${by.priority})`);
  lines.push(
    `  ${label('policy')} ${decision.effectivePolicyId} (${decision.effectivePolicyMode}, from ${decision.resolutionSource.replace('_', ' ')})`,
  );
  if (decision.tool) lines.push(`  ${label('tool')} ${decision.tool}`);
  if (decision.flags.length > 0) lines.push(`  ${label('flags')} ${decision.flags.join(', ')}`);
  if (decision.detections.length > 0) {
    lines.push(`  ${label('detections').trimEnd()}`);
    const table = formatTable(
      decision.detections,
      [
        { header: 'SEVERITY', value: (detection) => detection.severity },
        { header: 'RULE', value: (detection) => detection.ruleId },
        { header: 'FAMILY', value: (detection) => detection.family },
        { header: 'CONF', value: (detection) => detection.confidence.toFixed(2) },
        { header: 'NAME', value: (detection) => detection.name, maxWidth: 40 },
        {
          header: 'WHERE',
          maxWidth: 50,
          value: (detection) => {
            const layer = detection.layer ? ` (inside ${detection.layer.encoding})` : '';
            const path = detection.path ? `${detection.path} ` : '';
            if (sensitiveFamilies.has(detection.family)) return `${path}[masked]${layer}`;
            const text = options.text?.slice(detection.span.start, detection.span.end);
            return text ? `${path}"${text.replace(/\s+/g, ' ')}"${layer}` : `${path}${layer}`.trim();
          },
        },
      ],
      (text) => colors.dim(text),
    );
    lines.push(...table.split('\n').map((line) => `    ${line}`));
  }
  if (decision.redactedText !== undefined) lines.push(`  ${label('redacted')} ${decision.redactedText}`);
  if (decision.redactedArgs !== undefined) lines.push(`  ${label('redacted')} ${JSON.stringify(decision.redactedArgs)}`);
  if (decision.budget) {
    const budget = decision.budget;
    lines.push(
      `  ${label('budget')} ${budget.action}${budget.limitUsd !== undefined ? `: $${(budget.spentUsd ?? 0).toFixed(2)} of $${budget.limitUsd.toFixed(2)} (${budget.scope} ${budget.period})` : ''}`,
    );
  }
  if (decision.approvalId !== undefined) {
    lines.push(
      decision.action === 'escalate'
        ? `  ${label('approval')} ${colors.bold(decision.approvalId)}  (approve: palisade approvals approve ${decision.approvalId})`
        : `  ${label('approval')} ${decision.approvalId} (approved ticket used)`,
    );
  }
  if (decision.shadow) {
    const shadow = decision.shadow;
    lines.push(`  ${label('shadow')} ${shadow.policyId} would ${shadow.action}${shadow.differs ? colors.yellow(' (differs)') : ''}`);
  }
  if (options.explain) lines.push(...explainLines(decision, options.explain, colors));
  return lines.join('\n');
}

function explainLines(decision: Decision, explanation: Explanation, colors: Colors): string[] {
  const label = (name: string) => colors.dim(name.padEnd(11));
  const lines: string[] = [];
  const chain = explanation.chain.map((step) => `${step.level}${step.policyId ? `=${step.policyId}` : ''}${step.chosen ? '*' : ''}`);
  lines.push(`  ${label('resolution')} ${chain.join(' → ') || '(none)'}${explanation.reason ? ` (${explanation.reason})` : ''}`);
  if (decision.diagnostics.matchedRules.length === 0) lines.push(`  ${label('matched')} no rule`);
  else {
    lines.push(`  ${label('matched')}`);
    for (const rule of decision.diagnostics.matchedRules) {
      lines.push(
        `    ${rule.layer} ${rule.policyId} › ${rule.rule} (priority ${rule.priority}) → ${rule.action}${rule.ruleId ? ` for ${rule.ruleId}` : ''}`,
      );
    }
  }
  for (const item of decision.suppressedDetections) {
    lines.push(
      `  ${label('suppressed')} ${item.detection.ruleId} by "${item.suppression.rule}" (${item.suppression.action}): ${item.suppression.reason}`,
    );
  }
  for (const error of decision.diagnostics.errors) lines.push(`  ${label('error')} ${colors.red(error)}`);
  lines.push(`  ${label('event')} ${decision.eventId}, policy version ${decision.policyVersion}, ${decision.evaluationMs.toFixed(1)} ms`);
  return lines;
}
