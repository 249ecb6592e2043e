// The page's phase: one state machine, and `transition` is the only place the
// phase changes. www/README.md "Phases" lists the same table.
//
// state = { phase, ab, text }
//   phase: 'idle' | 'running' | 'paused' | 'ended'
//   ab:    true while the A/B driver runs its four runs
//   text:  what #state shows ('idle', 'running', 'paused', 'exit 0',
//          'stopped', 'error: REASON', 'asleep: REASON (DETAIL)', ...)

/** event -> [phases it may come in, phase after it]; `*` = any phase. */
export const TRANSITIONS = {
  loaded: ['*', 'idle'], // a machine was built or reset in the worker
  'load-error': ['*', 'idle'], // the worker could not build one (the old one is gone)
  run: [['idle', 'paused'], 'running'], // the page asked the worker to run
  running: [['idle', 'paused', 'running'], 'running'], // the worker says it runs
  paused: ['*', 'paused'], // the worker paused, or a step left the machine mid-run
  ended: ['*', 'ended'], // the run is over: exit, stopped, asleep, trap_loop
  crash: ['*', 'ended'], // the worker failed (its reason in text)
  killed: ['*', 'ended'], // the Stop watchdog replaced a silent worker
  cleared: [['ended'], 'idle'], // another program was chosen after a run: its results are cleared
  'ab-start': ['*', null], // the A/B driver starts (phase unchanged)
  'ab-end': ['*', null], // ... and is done
};

/** Which controls are enabled: action -> (state) -> boolean. */
export const ACTIONS = {
  run: (s) => s.phase !== 'running' && !s.ab,
  pause: (s) => s.phase === 'running',
  step: (s) => s.phase !== 'running' && !s.ab,
  'step-block': (s) => s.phase !== 'running' && !s.ab,
  stop: (s) => s.phase === 'running' || s.phase === 'paused',
  reset: (s) => !s.ab,
  'ab-run': (s) => !s.ab && s.phase !== 'running',
  // Choosing the program (or a preset, which chooses one) while a guest runs
  // would change the walkthrough and the knobs under it: not while it runs.
  workload: (s) => !s.ab && s.phase !== 'running',
  'elf-file': (s) => !s.ab && s.phase !== 'running',
  'apply-preset': (s) => !s.ab && s.phase !== 'running',
};

export class Phase {
  constructor() {
    this.state = Object.freeze({ phase: 'idle', ab: false, text: 'idle' });
    this.listeners = [];
  }

  get phase() {
    return this.state.phase;
  }

  get ab() {
    return this.state.ab;
  }

  /** Calls fn(state) after every transition (and once now). */
  subscribe(fn) {
    this.listeners.push(fn);
    fn(this.state);
  }

  /** May `action` (a key of ACTIONS) be done now? */
  allows(action) {
    return ACTIONS[action](this.state);
  }

  /** Applies `event` (a key of TRANSITIONS); `text` is what #state shows
   *  (defaults to the new phase's name). An event that may not come in the
   *  current phase changes nothing and returns false. */
  transition(event, text) {
    const rule = TRANSITIONS[event];
    if (!rule) throw new Error(`unknown page event ${event}`);
    const [from, to] = rule;
    const s = this.state;
    if (from !== '*' && !from.includes(s.phase)) return false;
    const ab = event === 'ab-start' ? true : event === 'ab-end' ? false : s.ab;
    const phase = to ?? s.phase;
    this.state = Object.freeze({ phase, ab, text: to ? (text ?? phase) : s.text });
    for (const fn of this.listeners) fn(this.state);
    return true;
  }
}
