import type { MessageContent } from '@langchain/core/messages';

type Block = { type?: unknown; text?: unknown };

const isTextBlock = (block: unknown): block is { type: 'text'; text: string } =>
  typeof block === 'object' && block !== null && (block as Block).type === 'text' && typeof (block as Block).text === 'string';

/**
 * The text of a message's content: the string itself, or its text blocks joined by newlines.
 * Other blocks (images, files, reasoning) are not text Palisade scans.
 *
 * @example
 * contentText([{ type: 'text', text: 'a' }, { type: 'image_url', image_url: '…' }, { type: 'text', text: 'b' }]); // 'a\nb'
 */
export function contentText(content: MessageContent | undefined): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const block of content) {
    if (!isTextBlock(block)) continue;
    text = text === '' ? block.text : `${text}\n${block.text}`;
  }
  return text;
}

/**
 * The content with its text replaced: a string becomes `text`; in a block list the first text
 * block holds `text` and the other text blocks are dropped (their text was part of what the
 * guard rewrote), while non-text blocks stay where they were.
 *
 * @example
 * replaceContentText('mail bob@example.com', 'mail [REDACTED:EMAIL]'); // 'mail [REDACTED:EMAIL]'
 */
export function replaceContentText(content: MessageContent, text: string): MessageContent {
  if (typeof content === 'string') return text;
  const blocks: unknown[] = [];
  let placed = false;
  for (const block of content) {
    if (!isTextBlock(block)) blocks.push(block);
    else if (!placed) {
      blocks.push({ ...block, text });
      placed = true;
    }
  }
  if (!placed) blocks.unshift({ type: 'text', text });
  return blocks as MessageContent;
}

/**
 * Content as the policy sees it (tool results, tool arguments): LangChain serialises objects with
 * `JSON.stringify`, so JSON object and array text is parsed back (conditions such as
 * `result.status` then work); anything else is text.
 *
 * @example
 * jsonOrText('{"status":404}'); // { status: 404 }
 * jsonOrText('not found'); // 'not found'
 */
export function jsonOrText(content: MessageContent): unknown {
  const text = contentText(content);
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}
