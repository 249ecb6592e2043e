// The knob panel, drawn only from vm.knob_schema(): no knob is named here.
// A panel keeps, per knob, the last valid text ("applied") and shows the
// reason next to any entry that vm.check_setting refuses; a refused entry
// is never applied. settings() gives only the values that differ from the
// default, as {key: "text"}: the form WebMachine and the share link take.
// A knob whose schema entry says `live` carries a badge (.live-badge): it can
// change while the guest runs (session.js sends it with WebMachine.retune);
// a changed knob that is not live gets a note ([data-live-note-for=KEY])
// while the running machine keeps its old value (setWaiting).

import { t, pick } from './i18n.js';

const UNIT_SIZES = [
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
];

/** A number for people: sizes for bytes, ms for nanoseconds. */
export function formatValue(value, unit) {
  if (typeof value !== 'number') return String(value);
  if (unit === 'bytes') {
    for (const [name, size] of UNIT_SIZES) {
      if (value >= size && value % size === 0) return `${value / size} ${name}`;
    }
    return `${value} B`;
  }
  if (unit === 'nanoseconds' && value >= 1000 && value % 1000 === 0) {
    return value >= 1e6 ? `${value / 1e6} ms` : `${value / 1e3} µs`;
  }
  return unit ? `${value} ${unit}` : String(value);
}

function ruleText(rule) {
  // rule_multiple_of, rule_multiple_of_key, rule_power_of_two_ratio_to,
  // rule_at_most_key in i18n.js; an unknown rule reads as its name.
  return Object.entries(rule)
    .map(([k, v]) => {
      const key = `rule_${k}`;
      const label = t(key);
      return `${label === key ? k.replace(/_/g, ' ') : label} ${v}`;
    })
    .join(', ');
}

const defaultText = (knob) => String(knob.default);

export class KnobPanel {
  /**
   * root: the container; vm: the wasm module namespace (knob_schema, check_setting);
   * opts.attr: "key" for the main panel (data-key / data-error-for), "b-key" for B
   * (data-b-key / data-b-error-for), so that the two panels never share a selector.
   * opts.onChange(panel): called after a valid change.
   * opts.notes: {key: (appliedText) => text}: a note under that knob about
   * its applied value ('' for none), e.g. what the page makes of it.
   */
  constructor(root, vm, schema, opts = {}) {
    this.root = root;
    this.vm = vm;
    this.schema = schema;
    this.attr = opts.attr || 'key';
    this.idPrefix = opts.idPrefix || 'knob';
    this.onChange = opts.onChange || (() => {});
    this.notes = opts.notes || {};
    this.knobs = new Map();
    for (const section of schema.sections) for (const knob of section.knobs) this.knobs.set(knob.key, knob);
    this.applied = new Map([...this.knobs.values()].map((k) => [k.key, defaultText(k)]));
    this.typed = new Map(); // invalid texts still shown in their input
    this.errors = new Map();
    this.inputs = new Map();
    this.errorEls = new Map();
    this.noteEls = new Map();
    this.liveNoteEls = new Map();
    this.waiting = new Set(); // non-live keys the running machine does not have yet
    this.rendered = false;
    if (!opts.lazy) this.render(); // a lazy panel is drawn when first shown
  }

  errorAttr() {
    return this.attr === 'key' ? 'errorFor' : 'bErrorFor';
  }

  /** (Re)draws the panel in the current language, keeping every value. */
  render() {
    this.rendered = true;
    const frag = document.createDocumentFragment();
    this.inputs.clear();
    this.errorEls = new Map();
    this.noteEls = new Map();
    this.liveNoteEls = new Map();
    for (const section of this.schema.sections) {
      const box = document.createElement('fieldset');
      box.className = 'knob-section';
      const legend = document.createElement('legend');
      legend.textContent = pick(section.title);
      box.append(legend);
      for (const knob of section.knobs) box.append(this.renderKnob(knob));
      frag.append(box);
    }
    this.root.replaceChildren(frag);
    for (const key of this.knobs.keys()) this.refresh(key);
  }

  renderKnob(knob) {
    const row = document.createElement('div');
    row.className = 'knob';
    const id = `${this.idPrefix}-${knob.key.replace(/[^a-z0-9_]/gi, '-')}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    const code = document.createElement('code');
    // break long keys after a dot or underscore, never inside a word
    knob.key.split(/(?<=[._])/).forEach((part, i) => {
      if (i) code.append(document.createElement('wbr'));
      code.append(part);
    });
    label.append(code);
    if (knob.live) {
      const badge = document.createElement('span');
      badge.className = 'live-badge';
      badge.textContent = t('live_badge');
      badge.title = t('live_badge_title');
      label.append(' ', badge);
    }
    if (knob.native_only) {
      // kept and passed on (presets set it), but the page's worker ignores it
      const badge = document.createElement('span');
      badge.className = 'native-badge';
      badge.textContent = t('native_badge');
      badge.title = t('native_badge_title');
      label.append(' ', badge);
    }

    let input;
    if (knob.kind === 'bool') {
      input = document.createElement('input');
      input.type = 'checkbox';
      input.addEventListener('change', () => this.enter(knob.key, input.checked ? 'true' : 'false'));
    } else if (knob.kind === 'enum') {
      input = document.createElement('select');
      for (const v of knob.values) input.append(new Option(v, v));
      input.addEventListener('change', () => this.enter(knob.key, input.value));
    } else {
      input = document.createElement('input');
      input.type = 'text';
      input.inputMode = knob.kind === 'float' ? 'decimal' : 'numeric';
      input.spellcheck = false;
      input.autocomplete = 'off';
      input.addEventListener('change', () => this.enter(knob.key, input.value));
    }
    input.id = id;
    input.dataset[this.attr === 'key' ? 'key' : 'bKey'] = knob.key;

    const meta = document.createElement('span');
    meta.className = 'knob-meta';
    const parts = [`${t('default')} ${formatValue(knob.default, knob.unit)}`];
    if (knob.kind === 'integer' || knob.kind === 'float') {
      parts.push(`${t('range')} ${formatValue(knob.min, knob.unit)} … ${formatValue(knob.max, knob.unit)}`);
    } else if (knob.kind === 'enum') {
      parts.push(`${t('one_of')} ${knob.values.join(' | ')}`);
    }
    for (const rule of knob.rules || []) parts.push(ruleText(rule));
    meta.textContent = parts.join(' · ');

    const error = document.createElement('span');
    error.className = 'knob-error';
    error.dataset[this.errorAttr()] = knob.key;
    error.setAttribute('role', 'alert');

    let note = null;
    if (this.notes[knob.key]) {
      note = document.createElement('span');
      note.className = 'knob-note';
      note.dataset[this.attr === 'key' ? 'noteFor' : 'bNoteFor'] = knob.key;
      note.setAttribute('role', 'note');
      this.noteEls.set(knob.key, note);
    }
    let liveNote = null;
    if (!knob.live) {
      liveNote = document.createElement('span');
      liveNote.className = 'knob-live-note';
      liveNote.dataset[this.attr === 'key' ? 'liveNoteFor' : 'bLiveNoteFor'] = knob.key;
      liveNote.setAttribute('role', 'note');
      this.liveNoteEls.set(knob.key, liveNote);
    }

    const help = document.createElement('p');
    help.className = 'knob-help';
    help.textContent = pick(knob.help);
    if (knob.figures && knob.figures.length) {
      const figs = document.createElement('span');
      figs.className = 'knob-figures';
      figs.textContent = ` → ${knob.figures.join(', ')}`;
      help.append(figs);
    }

    const head = document.createElement('div');
    head.className = 'knob-head';
    head.append(label, input);
    row.append(head, meta, error, ...(note ? [note] : []), ...(liveNote ? [liveNote] : []), help);
    this.inputs.set(knob.key, input);
    this.errorEls.set(knob.key, error);
    return row;
  }

  /** Shows the applied (or refused, still typed) value of one knob. */
  refresh(key) {
    const input = this.inputs.get(key);
    if (!input) return;
    const text = this.typed.has(key) ? this.typed.get(key) : this.applied.get(key);
    if (input.type === 'checkbox') input.checked = text === 'true';
    else input.value = text;
    const error = this.errors.get(key) || '';
    this.errorEls.get(key).textContent = error;
    input.classList.toggle('invalid', !!error);
    input.setAttribute('aria-invalid', error ? 'true' : 'false');
    const row = input.closest('.knob');
    row.classList.toggle('changed', this.applied.get(key) !== defaultText(this.knobs.get(key)));
    const note = this.noteEls.get(key);
    if (note) note.textContent = this.notes[key](this.applied.get(key));
    const liveNote = this.liveNoteEls.get(key);
    if (liveNote) liveNote.textContent = this.waiting.has(key) ? t('live_note') : '';
  }

  /** Does the schema say this knob can change while the guest runs? */
  isLive(key) {
    return this.knobs.get(key)?.live === true;
  }

  /** The non-live keys whose change the running machine does not have yet
   *  (each gets its note); [] clears them all. */
  setWaiting(keys) {
    const before = this.waiting;
    this.waiting = new Set(keys);
    for (const key of new Set([...before, ...this.waiting])) this.refresh(key);
  }

  /** Checks one value in the context of the panel's other non-default
   *  values (rules that relate two knobs, e.g. min <= max threshold, are
   *  judged against what the machine would really get); returns the reason
   *  it is refused, or null. */
  check(key, text, others = this.settings()) {
    try {
      this.vm.check_setting(key, text, JSON.stringify(others));
      return null;
    } catch (e) {
      return e && e.message ? e.message : String(e);
    }
  }

  /** A user's entry: applied if valid, else shown with its reason. Returns the reason or null. */
  enter(key, text, { silent = false } = {}) {
    if (!this.knobs.has(key)) return this.check(key, String(text).trim());
    const error = this.judge(key, text);
    if (!error) this.recheckRefused();
    if (!error && !silent) this.onChange(this);
    return error;
  }

  /** Applies `text` to `key` if valid, else keeps it typed with its reason;
   *  shows the result and returns the reason or null. */
  judge(key, text) {
    const trimmed = String(text).trim();
    const error = this.check(key, trimmed);
    if (error) {
      this.typed.set(key, text);
      this.errors.set(key, error);
    } else {
      this.typed.delete(key);
      this.errors.delete(key);
      this.applied.set(key, trimmed);
    }
    this.refresh(key);
    return error;
  }

  /** Entries refused earlier are judged again after any applied change: a
   *  refusal that depended on another knob (min_threshold above
   *  max_threshold) goes when that knob's value makes the entry valid. */
  recheckRefused() {
    for (const [key, text] of [...this.typed]) this.judge(key, text);
  }

  /** Every knob back to its default (clears refused entries too). */
  resetAll({ silent = false } = {}) {
    for (const knob of this.knobs.values()) this.applied.set(knob.key, defaultText(knob));
    this.typed.clear();
    this.errors.clear();
    for (const key of this.knobs.keys()) this.refresh(key);
    if (!silent) this.onChange(this);
  }

  /** Defaults, then settings; returns [{key, value, error}] for the refused ones.
   *  A set that is valid as a whole is applied as a whole (its values may
   *  depend on each other); otherwise value by value, twice, so that a value
   *  refused only for want of a later one gets a second chance. */
  load(settings) {
    this.resetAll({ silent: true });
    const entries = Object.entries(settings || {}).map(([k, v]) => [k, String(v).trim()]);
    let whole = entries.length > 0 && entries.every(([k]) => this.knobs.has(k));
    if (whole) {
      try {
        this.vm.effective_config(JSON.stringify(Object.fromEntries(entries)));
      } catch {
        whole = false;
      }
    }
    let refused = [];
    if (whole) {
      for (const [key, value] of entries) {
        this.applied.set(key, value);
        this.refresh(key);
      }
    } else {
      let pending = entries;
      for (let pass = 0; pass < 2 && pending.length; pass++) {
        refused = [];
        for (const [key, value] of pending) {
          const error = this.enter(key, value, { silent: true });
          if (error) refused.push({ key, value, error });
        }
        pending = refused.map((r) => [r.key, r.value]);
      }
    }
    this.onChange(this);
    return refused;
  }

  /** Only the non-default, valid values: {key: "text"}. */
  settings() {
    const out = {};
    for (const [key, text] of this.applied) {
      if (text !== defaultText(this.knobs.get(key))) out[key] = text;
    }
    return out;
  }

  hasErrors() {
    return this.errors.size > 0;
  }
}
