// The human in the loop, as a separate process: it opens the same state folder as the agent
// (the SQLite store), waits for the agent's pending ticket, and approves or denies it.
//
//   node dist/approver.js <state directory> approve|deny
import { fileURLToPath } from 'node:url';
import { createGuard } from '@palisade/core';

const [stateDirectory, verdict] = process.argv.slice(2);
if (!stateDirectory || (verdict !== 'approve' && verdict !== 'deny')) {
  console.error('usage: approver.js <state directory> approve|deny');
  process.exit(2);
}

// The agent's process writes the audit log; this process's receipts (the vote) go into the shared
// store's outbox and the agent's guard moves them into the hash chain.
const guard = createGuard({
  configPath: fileURLToPath(new URL('../palisade.yaml', import.meta.url)),
  state: { directory: stateDirectory },
});

const deadline = Date.now() + 30_000;
let done = false;
while (!done) {
  const [ticket] = await guard.listApprovals({ tenantId: 'acme', status: 'pending' });
  if (ticket) {
    console.log(`     approver (pid ${process.pid}): ticket ${ticket.id} asks to run ${ticket.tool} with ${JSON.stringify(ticket.args)}`);
    console.log(`     approver: "${ticket.reason}" -> ${verdict}`);
    if (verdict === 'approve')
      await guard.approve(ticket.id, { tenantId: 'acme', approver: 'alice@acme.com', note: 'quarterly report, fine' });
    else await guard.deny(ticket.id, { tenantId: 'acme', approver: 'alice@acme.com', reason: 'the customer list never leaves acme.com' });
    done = true;
  } else if (Date.now() > deadline) {
    console.error('     approver: no pending ticket appeared within 30 s');
    process.exitCode = 1;
    done = true;
  } else {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
await guard.close();
