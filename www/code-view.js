// The code view: the hottest compiled units (#code-units) and one unit's
// guest disassembly (#code-guest) beside its generated wasm text (#code-wat),
// linked: each instruction line knows the wasm lines that translate it
// (`links` of the worker's code_view, from `Jit::code_view`). Selecting a
// guest line (click, or Tab to it and Enter/Space) marks it and its wasm
// lines `.linked` and scrolls the wasm pane to them; clicking a wasm line
// marks the instruction it belongs to and that instruction's whole range.
//
// Lines are rendered once per unit shown, as one span per line
// (`[data-guest-line=i]`, `[data-wat-line=j]`) separated by newlines, so the
// panes' textContent is the text itself; a selection only moves the
// `linked` class (5,000 wasm lines cost nothing per click).

import { $, reason } from './dom.js';
import { t } from './i18n.js';

export class CodeView {
  /** worker: the VmWorker; hasMachine(): is there a machine to ask? */
  constructor(worker, hasMachine) {
    this.worker = worker;
    this.hasMachine = hasMachine;
    this.reset();
    const guest = $('#code-guest');
    guest.addEventListener('click', (e) => this.pickGuest(e.target));
    guest.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        if (this.pickGuest(e.target)) e.preventDefault();
      }
    });
    $('#code-wat').addEventListener('click', (e) => this.pickWat(e.target));
  }

  /** Forget the lines shown and the selection. */
  reset() {
    this.guestLines = []; // span per guest line
    this.watLines = []; // span per wat line
    this.range = new Map(); // guest line -> [first, last] wat line
    this.owner = new Int32Array(0); // wat line -> guest line, or -1
    this.marked = []; // spans now .linked
  }

  clear() {
    this.reset();
    $('#code-units').replaceChildren(new Option(t('code_none'), ''));
    $('#code-guest').textContent = '';
    $('#code-wat').textContent = '';
    this.hint(null);
  }

  /** The hint under the unit list: how to link, or why there are no links. */
  hint(view) {
    const p = $('#code-link-hint');
    if (!p) return;
    const key = !view ? 'code_link_hint' : view.links?.length ? 'code_link_hint' : 'code_no_links';
    p.dataset.i18n = key;
    p.textContent = t(key);
  }

  async refresh() {
    if (!this.hasMachine()) return;
    let units;
    try {
      units = await this.worker.hotUnits(20);
    } catch {
      return; // no machine (crashed or replaced): nothing to show
    }
    const sel = $('#code-units');
    const keep = sel.value;
    if (!units.length) {
      this.clear();
      return;
    }
    sel.replaceChildren(
      ...units.map((u) => new Option(`${u.vpc}  ${u.tier}  ×${Number(u.executions).toLocaleString('en')}`, String(u.index))),
    );
    sel.value = units.some((u) => String(u.index) === keep) ? keep : String(units[0].index);
    await this.show();
  }

  async show() {
    const v = $('#code-units').value;
    if (v === '') return;
    try {
      const view = await this.worker.codeView(Number(v));
      this.render(view);
    } catch (e) {
      this.reset();
      $('#code-guest').textContent = reason(e);
      $('#code-wat').textContent = '';
      this.hint(null);
    }
  }

  /** Draw `view` (or nothing for null) with its links. */
  render(view) {
    this.reset();
    const guest = view ? view.guest : [];
    const wat = view ? view.wat.split('\n') : [];
    const links = (view && view.links) || [];
    this.owner = new Int32Array(wat.length).fill(-1);
    for (const { guest_line: g, wat_lines: w } of links) {
      if (!w) continue;
      this.range.set(g, w);
      for (let j = w[0]; j <= w[1] && j < wat.length; j++) this.owner[j] = g;
    }
    const linkable = new Set(links.map((l) => l.guest_line));
    this.guestLines = this.fill($('#code-guest'), guest, 'guestLine', (span, i) => {
      if (!linkable.has(i)) return;
      span.className = 'code-line';
      span.tabIndex = 0;
      span.setAttribute('role', 'button');
      if (!this.range.has(i)) span.classList.add('code-nowasm');
    });
    this.watLines = this.fill($('#code-wat'), wat, 'watLine', (span, j) => {
      if (this.owner[j] >= 0) span.className = 'code-line';
    });
    this.hint(view);
  }

  /** Replace `pre`'s content with one span per line; returns the spans. */
  fill(pre, lines, key, decorate) {
    const frag = document.createDocumentFragment();
    const spans = new Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      const span = document.createElement('span');
      span.dataset[key] = String(i);
      span.textContent = lines[i];
      decorate(span, i);
      spans[i] = span;
      if (i > 0) frag.append('\n');
      frag.append(span);
    }
    pre.replaceChildren(frag);
    return spans;
  }

  /** Mark guest line `g` and its wat range; scroll the pane(s) to them. */
  select(g, { scrollWat, scrollGuest }) {
    for (const span of this.marked) span.classList.remove('linked');
    this.marked = [];
    const mark = (span) => {
      if (!span) return;
      span.classList.add('linked');
      this.marked.push(span);
    };
    mark(this.guestLines[g]);
    const range = this.range.get(g);
    if (range) {
      for (let j = range[0]; j <= range[1]; j++) mark(this.watLines[j]);
    }
    if (scrollGuest) scrollTo($('#code-guest'), this.guestLines[g]);
    if (scrollWat && range) scrollTo($('#code-wat'), this.watLines[range[0]]);
  }

  /** A click or key on the guest pane: select its instruction line. */
  pickGuest(target) {
    const span = target.closest?.('[data-guest-line]');
    if (!span || !span.classList.contains('code-line')) return false;
    this.select(Number(span.dataset.guestLine), { scrollWat: true, scrollGuest: false });
    return true;
  }

  /** A click on the wasm pane: select the instruction its line belongs to. */
  pickWat(target) {
    const span = target.closest?.('[data-wat-line]');
    if (!span) return;
    const g = this.owner[Number(span.dataset.watLine)];
    if (g === undefined || g < 0) return;
    this.select(g, { scrollWat: false, scrollGuest: true });
  }
}

/** Scroll `pane` (only it, not the page) so that `line` is near its top third. */
function scrollTo(pane, line) {
  if (!line) return;
  const top = line.getBoundingClientRect().top - pane.getBoundingClientRect().top;
  if (top >= 0 && top + line.offsetHeight <= pane.clientHeight) return; // already in view
  pane.scrollTop += top - pane.clientHeight / 3;
}
