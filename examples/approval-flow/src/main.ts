// An agent's external email waits for a human. The agent (this process) asks to run email.send;
// Palisade escalates, a ticket appears in the SQLite state store, and the agent's run waits in
// place. An approver in another process (dist/approver.js) sees the ticket in the same store and
// approves it: the tool then runs exactly once. A second request is denied and never runs.
//
//   pnpm --filter @palisade/example-approval-flow example
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fakeModel } from '@langchain/core/testing';
import { createGuard, type Decision } from '@palisade/core';
import { palisadeMiddleware } from '@palisade/langchain';
import { AIMessage, createAgent, HumanMessage, type ToolMessage, tool } from 'langchain';
import { z } from 'zod';

let failures = 0;
function check(label: string, ok: boolean, detail = ''): void {
  console.log(`${ok ? '  ok  ' : '  FAIL'} ${label}${detail && !ok ? `\n         ${detail}` : ''}`);
  if (!ok) failures++;
}

// A real SQLite state store in a temporary folder, shared with the approver process.
const stateDirectory = mkdtempSync(join(tmpdir(), 'palisade-approval-flow-'));
const guard = createGuard({
  configPath: fileURLToPath(new URL('../palisade.yaml', import.meta.url)),
  state: { directory: stateDirectory },
});

const sent: { to: string; subject: string }[] = [];
const sendEmail = tool(
  async ({ to, subject }: { to: string; subject: string }) => {
    sent.push({ to, subject });
    return `sent "${subject}" to ${to}`;
  },
  { name: 'email.send', description: 'Sends an email', schema: z.object({ to: z.string(), subject: z.string() }) },
);

// What the tool had done when each ticket was opened: a pending call must not have run.
const sentWhenTicketOpened: number[] = [];
guard.events.on('approval.requested', () => {
  sentWhenTicketOpened.push(sent.length);
});
const decisions: Decision[] = [];

/** One agent run that asks to send one email, with an approver process answering `verdict`. */
async function requestEmail(to: string, subject: string, verdict: 'approve' | 'deny' | 'none') {
  const approver =
    verdict === 'none'
      ? undefined
      : spawn(process.execPath, [fileURLToPath(new URL('./approver.js', import.meta.url)), stateDirectory, verdict], { stdio: 'inherit' });
  const approverExit = approver ? new Promise<number | null>((resolve) => approver.on('exit', resolve)) : Promise.resolve(0);
  const model = fakeModel()
    .respondWithTools([{ name: 'email.send', args: { to, subject }, id: `call_${sent.length}_${verdict}` }])
    .respond(new AIMessage('Done.'));
  const agent = createAgent({
    model,
    tools: [sendEmail],
    // The one line that adds Palisade:
    middleware: [
      palisadeMiddleware(guard, { scope: { tenantId: 'acme', userId: 'bob' }, onDecision: (decision) => void decisions.push(decision) }),
    ],
  });
  const result = await agent.invoke({ messages: [new HumanMessage(`Email "${subject}" to ${to}`)] });
  const toolMessage = result.messages.find((message) => message.type === 'tool') as ToolMessage | undefined;
  return { toolMessage, approverExit: await approverExit };
}

const toolCallDecisions = () => decisions.filter((decision) => decision.boundary === 'tool_call');

console.log('1. An email to a partner is escalated, approved by another process, then sent once');
{
  const { toolMessage, approverExit } = await requestEmail('eve@partner.example', 'Q3 report', 'approve');
  const [escalated, redeemed] = toolCallDecisions();
  check('the approver process exited cleanly', approverExit === 0);
  check('nothing was sent while the ticket was pending', sentWhenTicketOpened[0] === 0);
  check('email.send ran exactly once, after the approval', sent.length === 1 && sent[0]?.to === 'eve@partner.example');
  check('the model got the tool result', toolMessage?.status === 'success' && String(toolMessage.content).includes('sent'));
  check(
    'decisions: escalate, then allow by the approval',
    escalated?.action === 'escalate' && redeemed?.action === 'allow' && redeemed.decidedBy.layer === 'approval',
  );
  const ticket = escalated?.approvalId ? await guard.getApproval(escalated.approvalId, { tenantId: 'acme' }) : undefined;
  check(
    'the SQLite ticket is approved by alice@acme.com and used up',
    ticket?.status === 'approved' && ticket.approvals[0]?.approver === 'alice@acme.com' && ticket.consumedAt !== undefined,
    JSON.stringify(ticket),
  );
}

console.log('2. A second email to a partner is denied: it never runs');
{
  const before = toolCallDecisions().length;
  const { toolMessage, approverExit } = await requestEmail('eve@partner.example', 'Customer list', 'deny');
  const [escalated] = toolCallDecisions().slice(before);
  check('the approver process exited cleanly', approverExit === 0);
  check('email.send ran zero times for this request', sent.length === 1);
  check(
    'the model was told it was denied, and why',
    toolMessage?.status === 'error' && /denied.*never leaves acme\.com/.test(String(toolMessage.content)),
  );
  const ticket = escalated?.approvalId ? await guard.getApproval(escalated.approvalId, { tenantId: 'acme' }) : undefined;
  check('the SQLite ticket is denied', ticket?.status === 'denied');
}

console.log('3. An email inside acme.com needs no approval');
{
  const { toolMessage } = await requestEmail('carol@acme.com', 'Lunch', 'none');
  check('email.send ran at once', sent.length === 2 && toolMessage?.status === 'success');
}

console.log("4. The audit log verifies, the other process's votes included");
{
  let votes = 0;
  for (let attempt = 0; attempt < 50 && votes < 2; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    await guard.flushAudit();
    const rows = await guard.queryAudit({ tenantId: 'acme' });
    votes = rows.filter((row) => row.kind === 'approval.approved' || row.kind === 'approval.denied').length;
  }
  check("the approver process's approve and deny are receipts in the chain", votes === 2);
  const audit = await guard.verifyAudit();
  check(`the hash chain verifies (${audit.receipts} receipts)`, audit.ok);
}

await guard.close();
rmSync(stateDirectory, { recursive: true, force: true });
console.log(failures === 0 ? '\nAll checks passed.' : `\n${failures} check(s) failed.`);
process.exitCode = failures === 0 ? 0 : 1;
