// The run controls view: which buttons are enabled (from the phase's
// ACTIONS), #state, #progress and the register view #regs.

import { ACTIONS } from './phase.js';
import { $ } from './dom.js';
import { t } from './i18n.js';

/** #state's text for a worker status (null: no run yet). */
export function statusText(st) {
  if (!st) return 'idle';
  if (st.state === 'exit') return `exit ${st.exit_code}`;
  // A run that can make no progress ends with its reason, not just a name.
  if (st.state === 'asleep' || st.state === 'trap_loop') {
    return `${st.state}: ${t(`why_${st.state}`)}${st.detail ? ` (${st.detail})` : ''}`;
  }
  return st.state;
}

/** #state's text in the page's language. The phase keeps the English
 *  text (it is the page's contract: tests and the A/B driver read it); the
 *  words are translated only for display. */
export function localStateText(text) {
  const exit = /^exit (-?\d+)$/.exec(text);
  if (exit) return `${t('state_exit')} ${exit[1]}`;
  const [word, ...rest] = text.split(': ');
  const key = `state_${word}`;
  const shown = t(key);
  if (shown === key) return text;
  return rest.length ? `${shown}: ${rest.join(': ')}` : shown;
}

export class RunControls {
  /** phase: the page's Phase (buttons and #state follow it). */
  constructor(phase) {
    this.abi = null; // ABI register names, from the wasm (abi_names())
    this.phase = phase;
    phase.subscribe((s) => this.render(s));
  }

  /** Shows #state again in the language just chosen. */
  relabel() {
    this.render(this.phase.state);
  }

  render(s) {
    const state = $('#state');
    state.textContent = localStateText(s.text);
    state.dataset.state = s.text;
    state.dataset.phase = s.phase;
    for (const [action, enabled] of Object.entries(ACTIONS)) $(`#${action}`).disabled = !enabled(s);
  }

  /** names: x0..x31's ABI names (from Rust's disassembler). */
  setAbiNames(names) {
    this.abi = names;
  }

  showProgress(status, report) {
    const insns = report?.instructions ?? status?.instructions;
    const parts = [];
    if (insns != null) parts.push(`${Number(insns).toLocaleString('en')} ${t('instructions')}`);
    if (report?.mips != null) parts.push(`${report.mips.toFixed(1)} MIPS`);
    if (status?.pc) parts.push(`pc ${status.pc}`);
    $('#progress').textContent = parts.join(' · ');
  }

  /** regs: {pc, x: [32 hex texts], privilege}, or null to hide the view. */
  showRegs(regs) {
    const el = $('#regs');
    if (!regs) {
      el.hidden = true;
      return;
    }
    const name = (i) => this.abi?.[i] ?? '';
    const lines = [`pc ${regs.pc}   privilege ${regs.privilege}`];
    for (let i = 0; i < 32; i += 4) {
      lines.push(
        [0, 1, 2, 3]
          .map((j) => `${`x${i + j}`.padStart(3)} ${name(i + j).padEnd(4)}${String(regs.x[i + j]).padStart(18)}`)
          .join(' '),
      );
    }
    el.textContent = lines.join('\n');
    el.hidden = false;
  }
}
