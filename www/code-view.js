// The code view: the hottest compiled units (#code-units) and one unit's
// guest disassembly (#code-guest) beside its generated wasm text (#code-wat).

import { $, reason } from './dom.js';
import { t } from './i18n.js';

export class CodeView {
  /** worker: the VmWorker; hasMachine(): is there a machine to ask? */
  constructor(worker, hasMachine) {
    this.worker = worker;
    this.hasMachine = hasMachine;
  }

  clear() {
    $('#code-units').replaceChildren(new Option(t('code_none'), ''));
    $('#code-guest').textContent = '';
    $('#code-wat').textContent = '';
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
      $('#code-guest').textContent = view ? view.guest.join('\n') : '';
      $('#code-wat').textContent = view ? view.wat : '';
    } catch (e) {
      $('#code-guest').textContent = reason(e);
      $('#code-wat').textContent = '';
    }
  }
}
