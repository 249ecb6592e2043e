// What runs and with which knobs: the workload list (#workload, an uploaded
// ELF as `file:NAME`) and its walkthrough, the presets (#preset, and B's
// #ab-preset-b), and the share link (#share-link) in and out.

import { $ } from './dom.js';
import { t, pick, getLang } from './i18n.js';
import { WORKLOADS, WORKLOAD_NAMES, DEFAULT_WORKLOAD, fetchWorkload } from './workloads.js';
import { shareUrl, parseShareUrl } from './report.js';

const FILE_PREFIX = 'file:';

export class Program {
  /** setLoadError(text): shows what was refused in #load-error. */
  constructor(setLoadError) {
    this.setLoadError = setLoadError;
    this.custom = null; // {name, bytes} of an uploaded ELF
    this.elfCache = new Map();
    this.presets = [];
    this.panelA = null; // KnobPanels, once the schema is there
    this.panelB = null;
  }

  fillWorkloads() {
    const sel = $('#workload');
    const keep = sel.value || DEFAULT_WORKLOAD;
    sel.replaceChildren(...WORKLOAD_NAMES.map((n) => new Option(n, n)));
    if (this.custom) sel.append(new Option(`${this.custom.name} (ELF)`, FILE_PREFIX + this.custom.name));
    sel.value = [...sel.options].some((o) => o.value === keep) ? keep : DEFAULT_WORKLOAD;
  }

  showWalkthrough() {
    const name = $('#workload').value;
    const w = WORKLOADS[name];
    const box = $('#walkthrough');
    if (!w) {
      box.replaceChildren();
      return;
    }
    const item = (label, text) => {
      const p = document.createElement('p');
      const b = document.createElement('b');
      b.textContent = `${label}: `;
      p.append(b, text);
      return p;
    };
    box.replaceChildren(item(name, pick(w.does)), item(t('try_it'), pick(w.try)), item(t('see_it'), pick(w.see)));
  }

  /** {id, name, custom} of the selected workload. */
  current() {
    const v = $('#workload').value;
    if (v.startsWith(FILE_PREFIX) && this.custom) return { id: v, name: this.custom.name, custom: true };
    return { id: v, name: v, custom: false };
  }

  async bytes(prog) {
    if (prog.custom) return this.custom.bytes;
    if (!this.elfCache.has(prog.name)) this.elfCache.set(prog.name, await fetchWorkload(prog.name));
    return this.elfCache.get(prog.name);
  }

  /** An uploaded ELF becomes the selected workload. */
  setCustom(name, bytes) {
    this.custom = { name, bytes };
    this.fillWorkloads();
    $('#workload').value = FILE_PREFIX + name;
    this.showWalkthrough();
    this.updateShareLink();
  }

  fillPresetSelects() {
    const groups = [
      ['defaults', t('preset_defaults')],
      ['problem', t('preset_problem')],
      ['fix', t('preset_fix')],
    ];
    // The option shows the title (it starts "Problem:" or "Fix:" and sits in
    // its group); the guide's problem it is about is its tooltip and leads
    // the description under the select.
    const label = (p) => pick(p.title);
    const full = (p) => (p.problem ? `${pick(p.problem)} — ${pick(p.title)}` : pick(p.title));
    for (const sel of [$('#preset'), $('#ab-preset-b')]) {
      const keep = sel.value;
      sel.replaceChildren();
      if (sel.id === 'ab-preset-b') sel.append(new Option(t('ab_custom'), ''));
      for (const [kind, name] of groups) {
        const list = this.presets.filter((p) => p.kind === kind);
        if (!list.length) continue;
        const og = document.createElement('optgroup');
        og.label = name;
        for (const p of list) og.append(Object.assign(new Option(label(p), p.id), { title: full(p) }));
        sel.append(og);
      }
      const other = this.presets.filter((p) => !groups.some(([k]) => k === p.kind));
      for (const p of other) sel.append(new Option(label(p), p.id));
      if ([...sel.options].some((o) => o.value === keep)) sel.value = keep;
    }
    this.showPresetDescription();
  }

  showPresetDescription() {
    const p = this.presets.find((x) => x.id === $('#preset').value);
    const el = $('#preset-description');
    if (!p) {
      el.textContent = '';
      return;
    }
    const settings = Object.entries(p.settings || {}).map(([k, v]) => `${k}=${v}`);
    const problem = p.problem ? `${pick(p.problem)}. ` : '';
    el.textContent = `${problem}${pick(p.description)} [${p.workload}${settings.length ? '; ' + settings.join(', ') : ''}]`;
  }

  applyPreset() {
    const p = this.presets.find((x) => x.id === $('#preset').value);
    if (!p) return;
    const refused = this.panelA.load(p.settings || {});
    if (p.workload && WORKLOAD_NAMES.includes(p.workload)) {
      $('#workload').value = p.workload;
      this.showWalkthrough();
    }
    this.setLoadError(refused.length ? refused.map((r) => `${r.key}=${r.value}: ${r.error}`).join('\n') : '');
    this.updateShareLink();
  }

  /** B's knobs from the preset chosen in #ab-preset-b. */
  fillBFromPreset() {
    const p = this.presets.find((x) => x.id === $('#ab-preset-b').value);
    if (!p) return;
    const refused = this.panelB.load(p.settings || {});
    $('#knobs-b-box').open = true;
    $('#ab-status').textContent = refused.map((r) => `${r.key}: ${r.error}`).join('; ');
  }

  updateShareLink() {
    const prog = this.current();
    $('#share-link').href = prog.custom
      ? shareUrl(null, this.panelA.settings(), getLang(), prog.name)
      : shareUrl(prog.name, this.panelA.settings(), getLang());
  }

  /** Applies a share link's workload and knobs; true when it also asks for a
   *  run and everything in it was taken (a link with refused parts only
   *  restores, and says what it refused). */
  restoreFromUrl() {
    const want = parseShareUrl(location.href);
    const problems = [...want.bad];
    if (want.workload != null) {
      if (WORKLOAD_NAMES.includes(want.workload)) $('#workload').value = want.workload;
      else problems.push(`workload=${want.workload}: ${t('unknown_workload')}`);
    }
    if (want.settings.length) {
      const refused = this.panelA.load(Object.fromEntries(want.settings));
      for (const r of refused) problems.push(`${r.key}=${r.value}: ${r.error}`);
    }
    const notes = [];
    if (problems.length) notes.push(`${t('restore_bad')}:\n${problems.join('\n')}`);
    if (want.elf != null) notes.push(t('restore_elf').replace('{name}', want.elf));
    if (notes.length) this.setLoadError(notes.join('\n'));
    return want.run && want.elf == null && problems.length === 0;
  }

  /** A file name for an export of the current program's report. */
  reportName() {
    return `tunevm-${this.current().name.replace(/[^\w.-]+/g, '_')}`;
  }
}
