import type { MessageContent } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { contentText, jsonOrText, replaceContentText } from './message-text.js';

const blocks = [
  { type: 'text', text: 'mail bob' },
  { type: 'image_url', image_url: 'https://example.com/a.png' },
  { type: 'text', text: 'at bob@example.com' },
] as MessageContent;

describe('contentText', () => {
  it('reads a string, or the text blocks of a block list joined by newlines', () => {
    expect(contentText('plain')).toBe('plain');
    expect(contentText(blocks)).toBe('mail bob\nat bob@example.com');
    expect(contentText([{ type: 'image_url', image_url: 'x' }] as MessageContent)).toBe('');
  });
});

describe('replaceContentText', () => {
  it('puts the rewritten text in the first text block, drops the other text blocks and keeps the rest in place', () => {
    expect(replaceContentText('mail bob@example.com', 'mail [REDACTED:EMAIL]')).toBe('mail [REDACTED:EMAIL]');
    expect(replaceContentText(blocks, 'mail bob\nat [REDACTED:EMAIL]')).toEqual([
      { type: 'text', text: 'mail bob\nat [REDACTED:EMAIL]' },
      { type: 'image_url', image_url: 'https://example.com/a.png' },
    ]);
  });
});

describe('jsonOrText', () => {
  it('parses JSON object and array text back, and leaves other text alone', () => {
    expect(jsonOrText('{"status":404}')).toEqual({ status: 404 });
    expect(jsonOrText(' [1,2]')).toEqual([1, 2]);
    expect(jsonOrText('{not json')).toBe('{not json');
    expect(jsonOrText('42')).toBe('42');
  });
});
