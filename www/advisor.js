// The tuning advisor panel (#advisor): the diagnoses that the rules of
// src/advisor.rs make of the latest report (the wasm's advise(), the same
// rules as `tunevm run --advise`), each with its evidence, the guide's likely
// causes and its fixes as knob changes: "Apply" puts a fix into the knob
// panel (A), "Set as B" into B's panel for an A/B run. Only the texts of the
// panel's own chrome are here (i18n.js); the diagnoses' texts come in en and
// zh from Rust.
//
// Blocks are updated in place (keyed by the rule's id, fixes by their
// settings) so that a button under the pointer is not replaced while live
// reports keep coming.

import { t, pick } from './i18n.js';
import { el, reason } from './dom.js';

/** Advise at most this often while a run goes on (the final report always). */
const LIVE_EVERY_MS = 500;

const settingsText = (fix) => fix.settings.map((s) => `${s.key}=${s.value}`).join(', ');

export class AdvisorView {
  /**
   * root: #advisor. opts.onApply(settings) / opts.onSetB(settings): put a
   * fix's settings ([{key, value}]) into panel A / B; they return a refusal
   * text or ''.
   */
  constructor(root, opts = {}) {
    this.root = root;
    this.advise = null; // the wasm's advise(report_json), once it is loaded
    this.onApply = opts.onApply || (() => '');
    this.onSetB = opts.onSetB || (() => '');
    this.diagnoses = null; // null: no report yet
    this.lastAt = 0;
    this.pending = null;
    this.enabled = true;
    this.clear();
  }

  /** Fix buttons are off while the A/B driver runs (it reads both panels). */
  setEnabled(on) {
    this.enabled = on;
    for (const b of this.root.querySelectorAll('button')) b.disabled = !on;
  }

  /** The main thread's wasm instance (for advise()). */
  setVm(vm) {
    this.advise = (json) => vm.advise(json);
    if (this.pending) this.update(this.pending, { force: true });
  }

  /** A live report (or the last one of a run): diagnose it. */
  update(report, { force = false } = {}) {
    if (!report) return;
    const final = report.stop_reason && report.stop_reason !== 'running';
    const now = performance.now();
    if (!this.advise || (!force && !final && now - this.lastAt < LIVE_EVERY_MS)) {
      // the latest one is diagnosed a little later, even if no other comes
      this.pending = report;
      if (this.advise && !this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          if (this.pending) this.update(this.pending, { force: true });
        }, LIVE_EVERY_MS);
      }
      return;
    }
    this.pending = null;
    this.lastAt = now;
    try {
      this.diagnoses = this.advise(JSON.stringify(report));
      this.error = '';
    } catch (e) {
      this.diagnoses = [];
      this.error = reason(e);
    }
    this.render();
  }

  /** A new machine: no report yet. */
  clear() {
    this.diagnoses = null;
    this.pending = null;
    clearTimeout(this.timer);
    this.timer = null;
    this.error = '';
    this.lastAt = 0;
    this.root.replaceChildren();
    this.render();
  }

  relabel() {
    this.root.replaceChildren();
    this.render();
  }

  render() {
    const list = this.diagnoses || [];
    this.root.dataset.state = this.diagnoses == null ? 'none' : list.length ? 'advice' : 'clean';
    let empty = this.root.querySelector(':scope > .advisor-empty');
    if (!list.length) {
      if (!empty) empty = el('p', { className: 'advisor-empty hint' });
      empty.textContent = this.error
        ? `${t('error_prefix')}: ${this.error}`
        : this.diagnoses == null ? t('advisor_none_yet') : t('advisor_clean');
      this.root.replaceChildren(empty);
      return;
    }
    empty?.remove();
    const keep = new Set(list.map((d) => d.id));
    for (const block of [...this.root.querySelectorAll(':scope > .diagnosis')]) {
      if (!keep.has(block.dataset.id)) block.remove();
    }
    list.forEach((d, i) => {
      let block = this.root.querySelector(`:scope > .diagnosis[data-id="${d.id}"]`);
      if (!block) block = this.makeBlock(d.id);
      if (this.root.children[i] !== block) this.root.insertBefore(block, this.root.children[i] ?? null);
      this.fill(block, d);
    });
  }

  makeBlock(id) {
    const block = el('div', { className: 'diagnosis' });
    block.dataset.id = id;
    block.append(
      el('h3', {}, el('span', { className: 'severity' }), el('span', { className: 'problem' }), el('span', { className: 'title' })),
      el('ul', { className: 'evidence' }),
      el('p', { className: 'causes' }),
      el('div', { className: 'fixes' }),
    );
    return block;
  }

  fill(block, d) {
    block.dataset.severity = d.severity;
    block.querySelector('.severity').textContent = t(`advisor_${d.severity}`);
    block.querySelector('.problem').textContent = `${pick(d.problem)}: `;
    block.querySelector('.title').textContent = pick(d.title);
    block.querySelector('.evidence').replaceChildren(...d.evidence.map((e) => el('li', { textContent: pick(e) })));
    block.querySelector('.causes').textContent = `${t('advisor_causes')}: ${d.causes.map(pick).join(' ')}`;
    const fixes = block.querySelector('.fixes');
    const signature = JSON.stringify(d.fixes.map((f) => f.settings));
    if (fixes.dataset.signature !== signature) {
      fixes.dataset.signature = signature;
      fixes.replaceChildren(...d.fixes.map((f) => this.makeFix(f)));
    } else {
      [...fixes.children].forEach((row, i) => (row.querySelector('.why').textContent = pick(d.fixes[i].why)));
    }
  }

  makeFix(fix) {
    const note = el('span', { className: 'fix-note hint' });
    const run = (fn, done) => () => {
      const refused = fn(fix.settings);
      note.textContent = refused || t(done);
      note.dataset.ok = refused ? '0' : '1';
    };
    const apply = el('button', { type: 'button', className: 'apply-fix', textContent: t('advisor_apply') });
    apply.addEventListener('click', run(this.onApply, 'advisor_applied'));
    const asB = el('button', { type: 'button', className: 'fix-as-b', textContent: t('advisor_as_b') });
    apply.disabled = asB.disabled = !this.enabled;
    asB.addEventListener('click', run(this.onSetB, 'advisor_set_b'));
    const row = el('div', { className: 'fix' }, el('code', { textContent: settingsText(fix) }), ' ',
      el('span', { className: 'why', textContent: pick(fix.why) }), ' ', apply, ' ', asB, ' ', note);
    row.dataset.settings = settingsText(fix);
    return row;
  }
}
