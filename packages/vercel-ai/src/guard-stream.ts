import type { DecisionBlockedError } from '@palisade/core';
import type { CallContext } from './call-context.js';
import { checkModelToolCall, checkOutputText } from './guard-output.js';
import { createStreamHoldBack, type ReleasedStretch, type StreamHoldBack } from './stream-hold-back.js';
import { isToolCallPart, type StreamPart, type UsageLike } from './types.js';

export interface GuardStreamOptions {
  holdBack?: { holdBackChars?: number; maxHoldBackChars?: number; releaseChars?: number };
  checkToolCalls: boolean;
  recordUsage: (usage: UsageLike | undefined) => void;
}

interface TextBlock {
  delta: 'text-delta' | 'reasoning-delta';
  end: 'text-end' | 'reasoning-end';
  holdBack: StreamHoldBack;
  original: string;
  open: boolean;
}

const unknownUsage: UsageLike = {
  inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: undefined, text: undefined, reasoning: undefined },
};

/**
 * The stream side of a model call, as a TransformStream over the provider's stream parts.
 *
 * - Text and reasoning deltas pass through a bounded hold-back (see `createStreamHoldBack`):
 *   each stretch that can no longer become part of a match is released, redacted when the guard
 *   says so; a block stops the stream. When a text block ends, the whole block is decided once
 *   more (the record, as for generateText).
 * - Tool input deltas are held until their `tool-call` part is decided, so a UI never shows
 *   arguments the policy has not seen; they are replayed as they came, replaced by the redacted
 *   input, or dropped.
 * - A clean stop: open text blocks are closed, an `error` part carries the `DecisionBlockedError`,
 *   `finish` says `content-filter`, and the provider's stream is cancelled (no more tokens).
 * - `finish` usage goes to the budgets (recorded behind the answer; see palisadeMiddleware).
 *
 * In shadow mode every part passes through at once, unchanged; the decisions are still made.
 */
export function guardStream(call: CallContext, options: GuardStreamOptions): TransformStream<StreamPart, StreamPart> {
  const enforce = call.mode === 'enforce';
  const blocks = new Map<string, TextBlock>();
  const toolInputs = new Map<string, StreamPart[]>();
  let stopped = false;
  const scan = (text: string) => call.guard.scanner.scan(text).detections;

  const blockFor = (id: string, kind: 'text' | 'reasoning'): TextBlock => {
    let block = blocks.get(id);
    if (!block) {
      block = {
        delta: kind === 'text' ? 'text-delta' : 'reasoning-delta',
        end: kind === 'text' ? 'text-end' : 'reasoning-end',
        holdBack: createStreamHoldBack({ ...options.holdBack, scan }),
        original: '',
        open: true,
      };
      blocks.set(id, block);
    }
    return block;
  };

  const stop = (controller: TransformStreamDefaultController<StreamPart>, error: DecisionBlockedError) => {
    stopped = true;
    for (const [id, block] of blocks) if (block.open) controller.enqueue({ type: block.end, id });
    controller.enqueue({ type: 'error', error });
    controller.enqueue({ type: 'finish', finishReason: { unified: 'content-filter', raw: 'palisade' }, usage: unknownUsage });
    // Terminating cancels the provider's stream: a blocked answer stops costing tokens.
    controller.terminate();
  };

  /** Decides a released stretch; returns the text to show, or undefined after a stop. */
  const release = async (
    controller: TransformStreamDefaultController<StreamPart>,
    stretch: ReleasedStretch,
  ): Promise<string | undefined> => {
    if (stretch.detections.length === 0 && !stretch.scanFailed) return stretch.text;
    const outcome = await checkOutputText(stretch.text, call, 'wrapStream', {
      stage: 'segment',
      ...(stretch.scanFailed ? {} : { detections: stretch.detections }),
    });
    if (!enforce) return stretch.text;
    if (outcome.type === 'refuse') {
      stop(controller, outcome.error);
      return undefined;
    }
    return outcome.type === 'rewrite' ? (outcome.text ?? '') : stretch.text;
  };

  /** Releases what a block still holds and records the whole block; false after a stop. */
  const endBlock = async (controller: TransformStreamDefaultController<StreamPart>, id: string, block: TextBlock): Promise<boolean> => {
    if (!block.open) return true;
    const rest = block.holdBack.end();
    if (rest && enforce) {
      const shown = await release(controller, rest);
      if (shown === undefined) return false;
      if (shown.length > 0) controller.enqueue({ type: block.delta, id, delta: shown });
    } else if (rest) {
      await release(controller, rest);
    }
    block.open = false;
    // The record of the whole block, decided as generateText decides a whole answer (scanned
    // whole: what only the whole text shows is caught here, late but still able to stop the stream).
    const outcome = await checkOutputText(block.original, call, 'wrapStream', { stage: 'final' });
    if (enforce && outcome.type === 'refuse') {
      stop(controller, outcome.error);
      return false;
    }
    return true;
  };

  return new TransformStream<StreamPart, StreamPart>({
    async transform(part, controller) {
      if (stopped) return;
      switch (part.type) {
        case 'text-start':
        case 'reasoning-start':
          blockFor(String(part.id), part.type === 'text-start' ? 'text' : 'reasoning');
          controller.enqueue(part);
          return;
        case 'text-delta':
        case 'reasoning-delta': {
          const id = String(part.id);
          const block = blockFor(id, part.type === 'text-delta' ? 'text' : 'reasoning');
          const delta = typeof part.delta === 'string' ? part.delta : '';
          block.original += delta;
          if (!enforce) controller.enqueue(part);
          const stretch = block.holdBack.push(delta);
          if (!stretch) return;
          const shown = await release(controller, stretch);
          if (enforce && shown !== undefined && shown.length > 0) controller.enqueue({ ...part, delta: shown });
          return;
        }
        case 'text-end':
        case 'reasoning-end': {
          const block = blocks.get(String(part.id));
          if (block && !(await endBlock(controller, String(part.id), block))) return;
          controller.enqueue(part);
          return;
        }
        case 'tool-input-start':
        case 'tool-input-delta':
        case 'tool-input-end': {
          if (!enforce || !options.checkToolCalls) {
            controller.enqueue(part);
            return;
          }
          const id = String(part.id);
          toolInputs.set(id, [...(toolInputs.get(id) ?? []), part]);
          return;
        }
        case 'tool-call': {
          if (!options.checkToolCalls || !isToolCallPart(part)) {
            controller.enqueue(part);
            return;
          }
          const buffered = toolInputs.get(part.toolCallId) ?? [];
          toolInputs.delete(part.toolCallId);
          const verdict = await checkModelToolCall(part, call, 'wrapStream');
          if ('refused' in verdict) {
            stop(controller, verdict.refused);
            return;
          }
          if (verdict.part.input !== part.input && buffered.length > 0) {
            // The redacted input replaces what the provider streamed.
            const start = buffered.find((item) => item.type === 'tool-input-start');
            if (start) controller.enqueue(start);
            controller.enqueue({ type: 'tool-input-delta', id: part.toolCallId, delta: verdict.part.input });
            controller.enqueue({ type: 'tool-input-end', id: part.toolCallId });
          } else {
            for (const item of buffered) controller.enqueue(item);
          }
          controller.enqueue(verdict.part);
          return;
        }
        case 'finish': {
          for (const [id, block] of blocks) if (!(await endBlock(controller, id, block))) return;
          for (const items of toolInputs.values()) for (const item of items) controller.enqueue(item);
          toolInputs.clear();
          options.recordUsage(part.usage as UsageLike | undefined);
          controller.enqueue(part);
          return;
        }
        default:
          controller.enqueue(part);
      }
    },
    async flush(controller) {
      // A stream that ended without `finish`: release what is held (still decided) and the tool inputs.
      if (stopped) return;
      for (const [id, block] of blocks) if (!(await endBlock(controller, id, block))) return;
      for (const items of toolInputs.values()) for (const item of items) controller.enqueue(item);
    },
  });
}
