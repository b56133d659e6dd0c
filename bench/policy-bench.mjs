#!/usr/bin/env node
// Policy decision latency: a tool-call decision with 10, 100 and 1,000 rules in the effective
// policy (spread over many tools, families and boundaries, several tenants in one configuration),
// excluding text scanning (detections are precomputed and passed in the event); and a full
// guard.scanInput of a 1 KB prompt. Prints p50/p99 in µs beside the targets; asserts nothing.
//
//   npx tsc -p packages/core/tsconfig.build.json && node bench/policy-bench.mjs [--quick]
//
// `runPolicyBench({ quick })` is exported for bench/run.mjs.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => pathToFileURL(join(root, 'packages/core/dist', path)).href;

const TARGET_DECISION_P99_US = 10;
const TARGET_SCAN_P99_US = 150;
const families = ['PI', 'JB', 'PII', 'SEC', 'CMD', 'ENC', 'HC', 'RAG', 'TOOL'];
const boundaries = ['input', 'output', 'tool_call', 'tool_result'];
const actions = ['allow', 'log', 'flag', 'redact', 'escalate', 'block'];
const verbs = ['read', 'write', 'list', 'send', 'delete'];
const services = 100;
const tenantCount = 10;

/** Deterministic pseudo-random numbers (mulberry32), so every run benchmarks the same config. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` rules like a real tenant's: mostly tool rules, some detection rules, some conditions. */
function tenantRules(count, seed) {
  const next = random(seed);
  const pick = (items) => items[Math.floor(next() * items.length)];
  const rules = [];
  for (let index = 0; index < count; index++) {
    const service = `svc${Math.floor(next() * services)}`;
    const match = {};
    const kind = next();
    if (kind < 0.5) {
      match.boundary = 'tool_call';
      match.tool = next() < 0.7 ? `${service}.${pick(verbs)}` : `${service}.*`;
      if (next() < 0.4) match.when = next() < 0.5 ? { 'args.to': { not: { ends_with: '@acme.com' } } } : { 'args.amount': { gt: 1000 } };
    } else if (kind < 0.85) {
      match.family = pick(families);
      if (next() < 0.5) match.boundary = pick(boundaries);
      if (next() < 0.3) match.tool = `${service}.*`;
      if (next() < 0.5) match.severity = pick(['>=HIGH', 'CRITICAL', ['MEDIUM', 'HIGH'], 'LOW']);
      if (next() < 0.3) match.min_confidence = pick([0.5, 0.7, 0.9]);
    } else {
      match.rule_id = `${pick(families).toLowerCase()}-0${Math.floor(next() * 30)}*`;
      match.boundary = pick(boundaries);
      if (next() < 0.3) match.tags = [pick(['personal', 'secret', 'attack.injection'])];
    }
    rules.push({ name: `rule ${index}`, priority: Math.floor(next() * 1000), action: pick(actions), match });
  }
  return rules;
}

function configFor(ruleCount) {
  const policies = {};
  const tenants = {};
  for (let tenant = 0; tenant < tenantCount; tenant++) {
    policies[`policy-${tenant}`] = { extends: 'balanced', rules: tenantRules(ruleCount, 1000 * ruleCount + tenant) };
    tenants[`tenant-${tenant}`] = { default_policy: `policy-${tenant}`, apps: { chatbot: { default_policy: 'strict' } } };
  }
  return {
    platform: {
      rules: [
        { name: 'no shell', priority: 1000, action: 'block', match: { boundary: 'tool_call', tool: 'shell.*' } },
        { name: 'secrets out', priority: 900, action: 'redact', match: { boundary: 'output', family: 'SEC' } },
        { name: 'critical injection', priority: 900, action: 'block', match: { family: ['PI', 'JB'], severity: 'CRITICAL' } },
      ],
    },
    policies,
    tenants,
  };
}

function detection(ruleId, family, severity, confidence, tags) {
  return { ruleId, family, name: ruleId, severity, confidence, tags, span: { start: 0, end: 8 }, path: '$.body' };
}

/** 64 tool calls over the configured services, a third with one or two precomputed detections. */
function toolCalls() {
  const next = random(7);
  const found = [
    [],
    [],
    [detection('pii-003', 'PII', 'MEDIUM', 0.9, ['personal.pii.email'])],
    [detection('sec-011', 'SEC', 'HIGH', 0.95, ['secret.key']), detection('pi-002', 'PI', 'HIGH', 0.7, ['attack.injection.override'])],
  ];
  return Array.from({ length: 64 }, (_, index) => ({
    boundary: 'tool_call',
    tool: `svc${Math.floor(next() * services)}.${verbs[index % verbs.length]}`,
    args: { to: index % 2 ? 'bob@acme.com' : 'eve@evil.example', amount: Math.floor(next() * 2000), body: 'Quarterly numbers attached.' },
    detections: found[index % found.length],
    scope: { tenantId: `tenant-${index % tenantCount}` },
  }));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Times each call separately (µs), after a warm-up; sync or async functions. */
async function measure(fn, inputs, iterations, { async = false } = {}) {
  const warmup = Math.min(2000, iterations);
  for (let index = 0; index < warmup; index++) {
    if (async) await fn(inputs[index % inputs.length]);
    else fn(inputs[index % inputs.length]);
  }
  const times = new Float64Array(iterations);
  for (let index = 0; index < iterations; index++) {
    const input = inputs[index % inputs.length];
    const before = process.hrtime.bigint();
    if (async) await fn(input);
    else fn(input);
    times[index] = Number(process.hrtime.bigint() - before) / 1000;
  }
  times.sort();
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), calls: iterations };
}

const fmt = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));

/** Runs the policy benchmark, prints a report, and returns the figures (µs). */
export async function runPolicyBench({ quick = false } = {}) {
  const { createGuard, createScanner, compileConfig, loadConfig } = await import(dist('index.js'));
  const { decide } = await import(dist('guard/decide.js'));
  const { evaluatePolicyLayer } = await import(dist('policy/compile-policy.js'));
  const iterations = quick ? 20_000 : 200_000;
  const scanner = createScanner();
  const events = toolCalls();
  const results = { decision: {}, scanInput: undefined };

  console.log(`## Policy decision latency (tool call, ${tenantCount} tenants, detections precomputed: no scanning)\n`);
  console.log('| rules in effective policy | path | p50 µs | p99 µs | target p99 |');
  console.log('|---|---|---|---|---|');
  for (const ruleCount of [10, 100, 1000]) {
    const object = configFor(ruleCount);
    const config = compileConfig(loadConfig({ object }));
    const guard = createGuard({ config: object, scanner });
    const inputs = events.map((event) => ({
      ...event,
      policy: config.policies.get(`policy-${event.scope.tenantId.slice('tenant-'.length)}`),
      data: { args: event.args, result: undefined, context: { ...event.scope, boundary: event.boundary, tool: event.tool } },
    }));
    const effective = inputs[0].policy.rules.length;
    const now = Date.now();
    const figures = {
      layer: await measure(
        (input) => evaluatePolicyLayer(input.policy, input.boundary, input.tool, input.data, input.detections),
        inputs,
        iterations,
      ),
      decide: await measure((input) => decide(config, scanner, input, now), inputs, iterations),
      guard: await measure((input) => guard.evaluate(input), inputs, iterations, { async: true }),
    };
    results.decision[ruleCount] = { effectiveRules: effective, ...figures };
    for (const [path, label] of [
      ['layer', 'evaluatePolicyLayer'],
      ['decide', 'decide (platform + policy)'],
      ['guard', 'guard.evaluate (awaited)'],
    ]) {
      const target = ruleCount === 1000 ? `<= ${TARGET_DECISION_P99_US}` : '';
      console.log(
        `| ${ruleCount} (+${effective - ruleCount} inherited) | ${label} | ${fmt(figures[path].p50)} | ${fmt(figures[path].p99)} | ${target} |`,
      );
    }
  }
  console.log('\nRatio 1,000 vs 10 rules (p50 / p99):');
  for (const path of ['layer', 'decide', 'guard']) {
    const [small, large] = [results.decision[10][path], results.decision[1000][path]];
    results.decision[`ratio ${path}`] = { p50: large.p50 / small.p50, p99: large.p99 / small.p99 };
    console.log(`  ${path}: ${(large.p50 / small.p50).toFixed(2)}x / ${(large.p99 / small.p99).toFixed(2)}x`);
  }

  const prose =
    'Hi team, please summarise the attached quarterly report for the board meeting on Thursday. Focus on revenue growth, ' +
    'the churn numbers in the EMEA region and the hiring plan. Keep it under one page and use plain language; the audience ' +
    'is not technical. If anything in the figures looks inconsistent, list it at the end with the page number. ';
  const prompts = Array.from({ length: 32 }, (_, index) => {
    let text = `Request ${index}. `;
    while (text.length < 1024) text += prose;
    return text.slice(0, 1024);
  });
  const scanGuard = createGuard({ config: configFor(100), scanner });
  const scan = await measure((text) => scanGuard.scanInput(text, { tenantId: 'tenant-1' }), prompts, quick ? 5_000 : 50_000, {
    async: true,
  });
  results.scanInput = scan;
  console.log(
    `\nguard.scanInput, 1 KB prompt (scan + decide): p50 ${fmt(scan.p50)} µs, p99 ${fmt(scan.p99)} µs (target p99 <= ${TARGET_SCAN_P99_US} µs)\n`,
  );
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await runPolicyBench({ quick: process.argv.includes('--quick') });
}
