// The guest console: #console (output, bounded) and #console-input (a line
// typed there goes to the guest's UART with its newline).

import { $ } from './dom.js';

const CONSOLE_MAX = 200_000; // characters kept in #console

export class ConsoleView {
  /** onLine(text): a line typed for the guest, newline included. */
  /** onLine returns false when the line was not taken (it then stays in
   *  the box, and the note under it says why). */
  constructor(onLine) {
    $('#console-input').addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      const text = e.target.value + '\n';
      if (onLine(text) !== false) e.target.value = '';
    });
  }

  /** The note under the input ('' hides it). */
  note(text) {
    const el = $('#console-note');
    el.textContent = text;
    el.hidden = !text;
  }

  append(text) {
    const el = $('#console');
    let all = el.textContent + text;
    if (all.length > CONSOLE_MAX) all = all.slice(all.length - CONSOLE_MAX);
    el.textContent = all;
    el.scrollTop = el.scrollHeight;
  }

  clear() {
    $('#console').textContent = '';
  }
}
