// Compile-time check, never run: the public API as an application writes it. `tsconfig.json`
// checks it against ai@6; `tsconfig.ai7.json` maps `ai` to ai@7 and checks it again, which is
// what an application on ai@7 sees (the declared types come from the `ai` it installed).
import type { Guard } from '@palisade/core';
import { generateText, type LanguageModel, streamText, tool, wrapLanguageModel } from 'ai';
import type { ToolApprovalConfiguration, ToolSet } from 'ai-v7';
import { z } from 'zod';
import { guardTools, palisadeMiddleware, palisadeToolApproval } from '../index.js';

export async function usage(guard: Guard, base: Parameters<typeof wrapLanguageModel>[0]['model']) {
  const tools = guardTools(
    { send: tool({ inputSchema: z.object({ to: z.string() }), execute: async ({ to }) => `sent to ${to}` }) },
    guard,
    {
      scope: { tenantId: 'acme' },
    },
  );
  const model: LanguageModel = wrapLanguageModel({ model: base, middleware: palisadeMiddleware(guard, { scope: { tenantId: 'acme' } }) });
  const result = await generateText({
    model,
    tools,
    prompt: 'x',
    providerOptions: { palisade: { scope: { userId: 'u-1' }, runId: 'r-1' } },
  });
  const to: string | undefined = result.staticToolCalls[0]?.input.to;
  const streamed = streamText({ model, tools, prompt: 'x' });
  return [to, await streamed.text];
}

// ai@7's `toolApproval` accepts palisadeToolApproval whatever the tool set.
export const approval: ToolApprovalConfiguration<ToolSet, unknown> = palisadeToolApproval({} as Guard);
