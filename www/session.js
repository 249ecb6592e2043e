// The machine's life seen from the page: builds machines in the worker, runs,
// pauses, steps, stops and resets them, drives A/B, and turns what the worker
// says into phase events (phase.js) and view updates. Every message to the
// worker goes through VmWorker's methods.
//
// Live knobs: a change in panel A while the guest runs or is paused goes to
// the running machine (VmWorker.retune) when every knob that differs from the
// machine's settings is live (the schema's `live`); else nothing is sent and
// #retune-note and the knobs' notes say what waits for a new machine.

import { $, reason, num } from './dom.js';
import { t } from './i18n.js';
import { WorkerReplaced } from './worker-client.js';
import { statusText } from './controls.js';
import { renderAbTable } from './ab.js';

const WARM_INSNS = 200e6; // guest instructions after which the VM's own code counts as warmed up

export class Session {
  /** parts: { phase, worker, program, panel, controls, console, code, vm (the
   *  main-thread wasm, set once it is loaded),
   *  setLoadError(text), showPageError(text) } */
  constructor(parts) {
    Object.assign(this, parts);
    this.loadedKey = null; // settings + program of the machine in the worker, null if none
    this.loadedSettings = null; // the {key: "text"} that machine has now (retunes included)
    this.retuneNoteState = null; // what #retune-note says: {kind, ...}, redrawn on a language change
    this.retuning = Promise.resolve(); // the retune under way: Run and Step wait for it
    this.pendingInput = []; // console lines typed before the machine that reads them runs
    this.endWaiter = null; // A/B: resolves when the current run ends
    this.actions = Promise.resolve(); // the control action under way (see exclusive)
    this.insnsRun = 0; // guest instructions run in this page so far (how warmed up V8 is)
    this.abCurrent = null; // live reports of the A/B run under way
  }

  /** Is there a machine in the worker to ask for figures? */
  hasMachine() {
    return !!this.loadedKey && !this.worker.dead;
  }

  // ------------------------------------------------------------ worker messages
  onMessage(msg) {
    switch (msg.type) {
      case 'loaded':
        this.phase.transition('loaded');
        return;
      case 'load-error':
        this.forgetMachine();
        this.phase.transition('load-error');
        return;
      case 'status':
        if (msg.paused) this.phase.transition('paused');
        else if (msg.status.state === 'running') this.phase.transition('running');
        if (msg.regs) this.controls.showRegs(msg.regs);
        this.controls.showProgress(msg.status, this.panel.lastReport);
        if (msg.paused) this.code.refresh();
        return;
      case 'console':
        this.console.append(msg.text);
        return;
      case 'live': {
        // a report without a status (after Pause, after a retune while paused)
        // is followed by the status, or leaves #progress as it is
        const { status } = msg;
        this.panel.push(msg.report, status ? (r) => this.controls.showProgress(status, r) : null);
        this.abCurrent?.push(msg.report);
        return;
      }
      case 'ended':
        this.onRunEnded(msg.status, msg.report);
        return;
      case 'crash':
        this.onCrash(msg.message);
        return;
      default:
        // 'ready' is VmWorker's; 'stopped' is followed by 'ended'
        return;
    }
  }

  /** No machine in the worker any more (or not one the page may retune). */
  forgetMachine() {
    this.loadedKey = null;
    this.loadedSettings = null;
  }

  onCrash(message) {
    this.forgetMachine();
    this.phase.transition('crash', `error: ${message}`);
    this.endWaiter?.({ status: { state: 'error' }, error: message });
  }

  /** The Stop watchdog replaced a worker that did not answer in time. */
  onKilled() {
    this.forgetMachine();
    this.phase.transition('killed', 'stopped');
    this.endWaiter?.({ status: { state: 'stopped' }, report: null });
  }

  onRunEnded(status, reportText) {
    this.panel.finalReport = reportText;
    this.phase.transition('ended', statusText(status));
    this.controls.showProgress(status, this.panel.lastReport);
    this.code.refresh();
    this.worker.regs().then((r) => this.controls.showRegs(r), () => {});
    const prog = this.program.current();
    // Guest instructions this page had run before this run: until about
    // 200 M, V8 is still compiling and optimizing the code runs need: tunevm's
    // own, and generated modules (byte-identical ones it reuses) (BENCHMARKS.md).
    const warmBefore = this.insnsRun;
    this.insnsRun += this.panel.lastReport?.instructions ?? 0;
    if (!this.phase.ab && !prog.custom && prog.name === 'cpubench' && status.state === 'exit' && status.exit_code === 0) {
      this.panel.measureNative(this.worker, this.panel.lastReport?.wall_ns, warmBefore < WARM_INSNS, this.showPageError);
    }
    this.endWaiter?.({ status, report: reportText });
  }

  // ------------------------------------------------------------ machines
  configKey(settings, prog) {
    return `${prog.id}|${JSON.stringify(settings)}`;
  }

  /** Builds a fresh machine in the worker for the current program; throws with a reason. */
  async loadMachine(settings) {
    this.setLoadError('');
    const json = JSON.stringify(settings);
    try {
      this.vm.effective_config(json); // cross-knob rules (e.g. min <= max threshold)
    } catch (e) {
      throw new Error(reason(e));
    }
    const prog = this.program.current();
    const bytes = await this.program.bytes(prog);
    // A worker replaced by the Stop watchdog while the load was on its way
    // never answers it: the load goes again, once, to the new worker.
    for (let attempt = 1; ; attempt += 1) {
      await this.worker.usable();
      this.forgetMachine();
      const done = this.worker.load(json, bytes);
      // the worker drops its old machine now, whether or not the new one builds
      this.panel.finalReport = null;
      this.clearRunViews();
      try {
        await done;
        break;
      } catch (e) {
        if (!(e instanceof WorkerReplaced) || attempt >= 2) throw e;
      }
    }
    this.loadedKey = this.configKey(settings, prog);
    this.loadedSettings = { ...settings };
  }

  /** Empties what the page shows of a run: a new or reset machine starts blank. */
  clearRunViews() {
    this.panel.clear();
    this.console.clear();
    this.controls.showRegs(null);
    this.controls.showProgress(null, null);
    this.code.clear();
    this.program.panelA?.setWaiting([]);
    this.showRetuneNote(null);
  }

  /** Runs control actions one at a time, in the order they were asked for (a
   *  double click never builds two machines at once): a Run clicked while a
   *  chosen file is still loading runs once the load is done, not dropped. */
  exclusive(fn) {
    const next = this.actions.then(fn);
    this.actions = next.catch(() => {}); // a failed action does not block the next
    return next;
  }

  settingsOrThrow(panel) {
    if (panel.hasErrors()) {
      const keys = [...panel.errors.keys()].join(', ');
      const e = new Error(`fix the refused values first: ${keys}`);
      e.refusedValues = true; // the page clears it once the panel has none
      throw e;
    }
    return panel.settings();
  }

  async ensureFresh() {
    await this.loadMachine(this.settingsOrThrow(this.program.panelA));
  }

  /** True when the machine in the worker is the one the knobs and the program
   *  ask for and it can go on (idle or paused); else Run/Step build a new one. */
  canContinue(settings) {
    const same = this.loadedKey === this.configKey(settings, this.program.current());
    return same && !this.worker.dead && (this.phase.phase === 'paused' || this.phase.phase === 'idle');
  }

  // ------------------------------------------------------------ controls
  async run() {
    if (!this.phase.allows('run')) return;
    const settings = this.settingsOrThrow(this.program.panelA);
    await this.retuning; // a paused machine that is taking new knobs goes on with them
    if (!this.canContinue(settings)) await this.ensureFresh();
    if (this.pendingInput.length) this.flushPendingInput();
    this.phase.transition('run');
    this.worker.run();
  }

  pause() {
    if (!this.phase.allows('pause')) return;
    this.worker.pause();
  }

  async step(block) {
    if (!this.phase.allows('step')) return;
    await this.retuning;
    if (!this.canContinue(this.settingsOrThrow(this.program.panelA))) await this.ensureFresh();
    if (this.pendingInput.length) this.flushPendingInput();
    this.worker.step(block);
  }

  stop() {
    if (!this.phase.allows('stop')) return;
    this.worker.stop();
  }

  async reset() {
    if (!this.phase.allows('reset')) return;
    const settings = this.settingsOrThrow(this.program.panelA);
    if (this.phase.phase === 'running') this.worker.stop();
    const same = this.loadedKey === this.configKey(settings, this.program.current());
    if (same && !this.worker.dead && this.phase.phase !== 'running') {
      await this.worker.reset();
      this.clearRunViews();
    } else {
      await this.ensureFresh();
    }
  }

  /** A chosen ELF file: a machine is built from it at once, so a bad file
   *  shows the constructor's reason right away. */
  async loadFile(file) {
    // Over the loader's size cap: refused before it is read, with the
    // reason the machine would give.
    this.vm.check_elf_size(file.size);
    this.program.setCustom(file.name, new Uint8Array(await file.arrayBuffer()));
    if (this.phase.phase === 'running') this.worker.stop();
    await this.exclusive(() => this.ensureFresh());
  }

  /** A line typed for the guest. While a machine runs (or is paused, or
   *  built and not started) it goes to its UART. Before any machine exists
   *  it waits and is sent when one is built; after the program ended nothing
   *  reads it: it is not taken, and the note says so. */
  consoleLine(text) {
    if (this.phase.phase === 'ended') {
      this.console.note(t('console_ended'));
      return false;
    }
    // Idle: the machine in the worker may be one the next Run replaces
    // (another workload was chosen): keep the line for the machine that runs.
    if (this.loadedKey && this.phase.phase !== 'idle') {
      this.worker.consoleInput(text);
      this.console.note('');
    } else {
      this.pendingInput.push(text);
      this.console.note(t('console_queued').replace('{n}', String(this.pendingInput.length)));
    }
    return true;
  }

  /** Lines typed before the machine existed go to it now. */
  flushPendingInput() {
    for (const text of this.pendingInput) this.worker.consoleInput(text);
    this.pendingInput = [];
    this.console.note('');
  }

  // ------------------------------------------------------------ live knobs
  /** Panel A took a valid change. While the guest runs or is paused (not
   *  during A/B) and the worker's machine is the current program's: the
   *  change goes to it if every differing knob is live; else nothing is sent
   *  and the notes say which knobs wait for a new machine. In any other phase
   *  nothing happens here (Run and Step build a new machine as before). */
  async knobsChanged(panel) {
    const { phase } = this.phase;
    const prog = this.program.current();
    const live = (phase === 'running' || phase === 'paused') && !this.phase.ab;
    if (!live || !this.loadedSettings || this.worker.dead || !this.loadedKey?.startsWith(`${prog.id}|`)) {
      panel.setWaiting([]);
      if (this.retuneNoteState?.kind === 'waiting') this.showRetuneNote(null);
      return;
    }
    const settings = panel.settings();
    const loaded = this.loadedSettings;
    const differ = [...new Set([...Object.keys(settings), ...Object.keys(loaded)])].filter((k) => settings[k] !== loaded[k]);
    const notLive = differ.filter((k) => !panel.isLive(k));
    panel.setWaiting(notLive);
    if (!differ.length) {
      if (this.retuneNoteState?.kind === 'waiting') this.showRetuneNote(null);
      return;
    }
    if (notLive.length) {
      this.showRetuneNote({ kind: 'waiting', keys: differ, notLive });
      return;
    }
    const json = JSON.stringify(settings);
    try {
      this.vm.effective_config(json); // cross-knob rules, as for a new machine
    } catch (e) {
      this.showRetuneNote({ kind: 'error', reason: reason(e) });
      return;
    }
    const gen = this.worker.gen;
    const sent = this.worker.retune(json);
    this.retuning = sent.catch(() => {});
    let mark;
    try {
      mark = await sent;
    } catch (e) {
      if (this.worker.gen === gen) this.showRetuneNote({ kind: 'error', reason: reason(e) });
      return;
    }
    if (this.worker.gen !== gen || !this.loadedKey) return; // that machine has since been replaced
    this.loadedSettings = settings;
    this.loadedKey = this.configKey(settings, prog);
    if (!Object.keys(mark?.changes || {}).length) {
      // the same values in other words: nothing changed, nothing waits
      if (this.retuneNoteState?.kind !== 'applied') this.showRetuneNote(null);
      return;
    }
    this.panel.charts.addMark(mark);
    this.showRetuneNote({ kind: 'applied', mark, paused: this.phase.phase === 'paused' });
  }

  /** #retune-note: null hides it; {kind: 'applied', mark, paused},
   *  {kind: 'waiting', keys, notLive} or {kind: 'error', reason}. */
  showRetuneNote(state) {
    this.retuneNoteState = state;
    const el = $('#retune-note');
    if (!el) return;
    el.hidden = !state;
    el.dataset.kind = state?.kind ?? '';
    if (!state) {
      el.textContent = '';
    } else if (state.kind === 'applied') {
      const secs = num(state.mark.wall_ns) == null ? '?' : `${(state.mark.wall_ns / 1e9).toFixed(2)} s`;
      const changes = Object.entries(state.mark.changes).map(([k, v]) => `${k}=${v}`).join(', ');
      el.textContent = t(state.paused ? 'retune_applied_paused' : 'retune_applied_running')
        .replace('{time}', secs)
        .replace('{changes}', changes);
    } else if (state.kind === 'waiting') {
      const held = state.keys.filter((k) => !state.notLive.includes(k));
      el.textContent = t('retune_waiting').replace('{notlive}', state.notLive.join(', '))
        + (held.length ? t('retune_held').replace('{live}', held.join(', ')) : '');
    } else {
      el.textContent = t('retune_error').replace('{reason}', state.reason);
    }
  }

  /** #retune-note again in the current language. */
  relabel() {
    this.showRetuneNote(this.retuneNoteState);
  }

  // ------------------------------------------------------------ A/B
  runToEnd() {
    return new Promise((resolve) => {
      this.endWaiter = (result) => {
        this.endWaiter = null;
        resolve(result);
      };
      this.phase.transition('run');
      this.worker.run();
    });
  }

  async abRun() {
    if (!this.phase.allows('ab-run')) return;
    const status = $('#ab-status');
    let settingsA;
    let settingsB;
    try {
      settingsA = this.settingsOrThrow(this.program.panelA);
      settingsB = this.settingsOrThrow(this.program.panelB);
      this.vm.effective_config(JSON.stringify(settingsB));
    } catch (e) {
      status.textContent = `B: ${reason(e)}`;
      return;
    }
    // A B B A: a browser warms up over the first runs (V8 tiers the VM's own
    // code up while it runs), so whichever side ran first alone would pay it.
    // Each side keeps its faster run.
    const order = [['A', settingsA], ['B', settingsB], ['B', settingsB], ['A', settingsA]];
    const best = {};
    const walls = { A: [], B: [] };
    const all = { A: [], B: [] };
    this.phase.transition('ab-start');
    try {
      for (const [i, [name, settings]] of order.entries()) {
        status.textContent = `${name} (${i + 1}/${order.length}): ${t('ab_running')}…`;
        await this.loadMachine(settings);
        this.abCurrent = [];
        const end = await this.runToEnd();
        if (end.error || !end.report) throw new Error(`${name}: ${end.error || 'the run was killed'}`);
        const report = JSON.parse(end.report);
        walls[name].push(report.wall_ns);
        all[name].push(report);
        if (!best[name] || report.wall_ns < best[name].report.wall_ns) {
          const series = this.panel.charts.chartData('mips');
          best[name] = { report, mips: [series[0].slice(), series[1].slice()] };
        }
      }
      renderAbTable($('#ab-table'), best.A.report, best.B.report, { a: all.A, b: all.B });
      this.panel.abChart.show(best.A, best.B);
      const secs = (ns) => `${(ns / 1e9).toFixed(3)} s`;
      status.textContent = `${t('ab_runs')}: A ${walls.A.map(secs).join(', ')}; B ${walls.B.map(secs).join(', ')}`;
    } catch (e) {
      status.textContent = reason(e);
    } finally {
      this.abCurrent = null;
      this.endWaiter = null;
      this.phase.transition('ab-end');
    }
  }
}
