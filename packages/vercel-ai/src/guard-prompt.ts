import type { Detection } from '@palisade/core';
import type { CallContext } from './call-context.js';
import { callKey, callRegistryFor } from './call-registry.js';
import { evaluateEvent, toolResultEvent } from './evaluate-event.js';
import { refuse, toAiSdkOutcome } from './to-ai-sdk-outcome.js';
import { isTextPart, isToolResultPart, type PromptMessage, type PromptPart, type ToolResultOutput } from './types.js';

/**
 * The input side of a model call. The user's text parts go to the guard as one `input` event
 * (so the budget check and the receipt happen once per call), each scanned on its own so a
 * redaction maps back to its part; every tool result in the prompt goes as a `tool_result`
 * event, unless `guardTools` already decided on that very result. Returns the prompt to send:
 * redacted in place, or throws `DecisionBlockedError` (enforce mode).
 *
 * Not scanned: the system message (the developer's), assistant turns (model output, checked when
 * it was generated), files and images.
 */
export async function guardPrompt(prompt: PromptMessage[], call: CallContext): Promise<PromptMessage[]> {
  const { guard, scope } = call;
  const enforce = call.mode === 'enforce';
  let next = prompt;

  const parts: { message: number; part: number; text: string }[] = [];
  prompt.forEach((message, messageIndex) => {
    if (message.role !== 'user') return;
    message.content.forEach((part, partIndex) => {
      if (isTextPart(part)) parts.push({ message: messageIndex, part: partIndex, text: part.text });
    });
  });
  const texts = parts.map((item) => item.text);
  const separator = separatorFor(texts);
  let detections: Detection[] | undefined = [];
  let offset = 0;
  for (const text of texts) {
    try {
      for (const detection of guard.scanner.scan(text).detections) {
        detections.push({ ...detection, span: { start: detection.span.start + offset, end: detection.span.end + offset } });
      }
    } catch {
      // The guard scans the joined text itself and fails closed if that throws too.
      detections = undefined;
      break;
    }
    offset += text.length + separator.length;
  }
  const input = await evaluateEvent(guard, {
    boundary: 'input',
    text: texts.join(separator),
    scope,
    ...(detections !== undefined ? { detections } : {}),
  });
  let outcome = toAiSdkOutcome(input, { canEscalate: false });
  let rewritten: string[] | undefined;
  if (outcome.type === 'rewrite') {
    rewritten = outcome.text?.split(separator);
    if (rewritten?.length !== texts.length)
      outcome = refuse(input, 'The redacted prompt could not be mapped back to its parts; blocked (fail closed).');
  }
  call.report(input, { hook: 'transformParams', outcome: outcome.type });
  if (enforce && outcome.type === 'refuse') throw outcome.error;
  if (enforce && rewritten) {
    next = replaceParts(
      next,
      parts.map((item, index) => ({ ...item, replace: (part: PromptPart) => ({ ...part, text: rewritten?.[index] ?? '' }) })),
    );
  }

  const registry = callRegistryFor(guard);
  const results: { message: number; part: number; replace: (part: PromptPart) => PromptPart }[] = [];
  for (const [messageIndex, message] of prompt.entries()) {
    if (message.role !== 'tool' && message.role !== 'assistant') continue;
    for (const [partIndex, part] of message.content.entries()) {
      if (!isToolResultPart(part)) continue;
      const value = resultValue(part.output);
      if (value === undefined) continue;
      if (registry.hasResult(part.toolCallId, callKey(part.toolName, value, scope))) continue;
      const decision = await evaluateEvent(guard, toolResultEvent(part.toolName, value, scope));
      const resultOutcome = toAiSdkOutcome(decision, { canEscalate: false });
      call.report(decision, { hook: 'transformParams', outcome: resultOutcome.type, toolCallId: part.toolCallId });
      if (!enforce) continue;
      if (resultOutcome.type === 'refuse') throw resultOutcome.error;
      if (resultOutcome.type === 'rewrite') {
        const redacted = resultOutcome.text ?? resultOutcome.value;
        results.push({ message: messageIndex, part: partIndex, replace: (old) => ({ ...old, output: withValue(part.output, redacted) }) });
      }
    }
  }
  return results.length > 0 ? replaceParts(next, results) : next;
}

/** A separator that occurs in none of the texts, so the redacted join splits back exactly (no span crosses it). */
function separatorFor(texts: readonly string[]): string {
  let separator = '\n\n';
  while (texts.some((text) => text.includes(separator))) separator = `\n\u2063${separator}`;
  return separator;
}

/** What a tool result says, as the guard should see it: text, JSON, or the texts of a content list. */
function resultValue(output: ToolResultOutput): unknown {
  switch (output.type) {
    case 'text':
    case 'error-text':
    case 'json':
    case 'error-json':
      return output.value;
    case 'content':
      return Array.isArray(output.value) ? output.value.map((item) => (isTextPart(item) ? item.text : '')) : undefined;
    default:
      return undefined;
  }
}

function withValue(output: ToolResultOutput, redacted: unknown): ToolResultOutput {
  if (output.type === 'content' && Array.isArray(redacted)) {
    return {
      ...output,
      value: output.value.map((item, index) => (isTextPart(item) ? { ...item, text: String(redacted[index] ?? '') } : item)),
    };
  }
  if (output.type === 'text' || output.type === 'error-text')
    return { ...output, value: typeof redacted === 'string' ? redacted : JSON.stringify(redacted) };
  return { ...output, value: redacted } as ToolResultOutput;
}

function replaceParts(
  prompt: PromptMessage[],
  replacements: { message: number; part: number; replace: (part: PromptPart) => PromptPart }[],
): PromptMessage[] {
  const copy = prompt.slice();
  for (const { message, part, replace } of replacements) {
    const original = copy[message];
    if (!original || typeof original.content === 'string') continue;
    const content = original.content.slice();
    const old = content[part];
    if (old) content[part] = replace(old);
    copy[message] = { ...original, content } as PromptMessage;
  }
  return copy;
}
