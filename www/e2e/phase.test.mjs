// The page's phase machine (www/phase.js) on its own, without a browser:
// every event's effect, and which controls each state enables.
//
//   node --test www/e2e/phase.test.mjs       (part of scripts/test-e2e.sh)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, Phase, TRANSITIONS } from '../phase.js';

const enabled = (s) => Object.keys(ACTIONS).filter((a) => ACTIONS[a](s)).join(' ');

test('a run goes idle -> running -> paused -> running -> ended, and #state text follows', () => {
  const p = new Phase();
  const seen = [];
  p.subscribe((s) => seen.push(`${s.phase}:${s.text}`));
  assert.equal(p.transition('run'), true);
  assert.equal(p.transition('paused'), true);
  assert.equal(p.transition('run'), true);
  assert.equal(p.transition('ended', 'exit 0'), true);
  assert.equal(p.transition('loaded'), true);
  assert.deepEqual(seen, ['idle:idle', 'running:running', 'paused:paused', 'running:running', 'ended:exit 0', 'idle:idle']);
});

test('events that may not come in a phase change nothing', () => {
  const p = new Phase();
  p.transition('ended', 'stopped');
  assert.equal(p.transition('run'), false, 'run from ended: a new machine is loaded first');
  assert.equal(p.transition('running'), false, 'a late "running" status after the end');
  assert.deepEqual({ ...p.state }, { phase: 'ended', ab: false, text: 'stopped' });
  assert.throws(() => p.transition('nonsense'), /unknown page event/);
});

test('crash and the watchdog end any phase; A/B keeps the phase and locks the controls', () => {
  for (const start of ['idle', 'running', 'paused', 'ended']) {
    const p = new Phase();
    if (start === 'running') p.transition('run');
    if (start === 'paused') p.transition('paused');
    if (start === 'ended') p.transition('ended');
    p.transition('crash', 'error: boom');
    assert.deepEqual({ ...p.state }, { phase: 'ended', ab: false, text: 'error: boom' });
  }
  const p = new Phase();
  p.transition('ab-start');
  assert.equal(p.phase, 'idle');
  assert.equal(enabled(p.state), '');
  p.transition('run');
  assert.equal(enabled(p.state), 'pause stop');
  p.transition('ended', 'exit 0');
  p.transition('ab-end');
  assert.equal(p.state.text, 'exit 0');
  assert.equal(enabled(p.state), 'run step step-block reset ab-run workload elf-file apply-preset');
});

test('the controls each phase enables (the table in www/README.md)', () => {
  const table = {};
  for (const phase of ['idle', 'running', 'paused', 'ended']) {
    table[phase] = enabled({ phase, ab: false });
    table[`${phase}+ab`] = enabled({ phase, ab: true });
  }
  assert.deepEqual(table, {
    idle: 'run step step-block reset ab-run workload elf-file apply-preset',
    'idle+ab': '',
    running: 'pause stop reset',
    'running+ab': 'pause stop',
    paused: 'run step step-block stop reset ab-run workload elf-file apply-preset',
    'paused+ab': 'stop',
    ended: 'run step step-block reset ab-run workload elf-file apply-preset',
    'ended+ab': '',
  });
  assert.ok(Object.keys(TRANSITIONS).length >= 9);
});
