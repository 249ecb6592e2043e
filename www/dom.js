// Small helpers every module of the page shares (one copy of each).

/** The first element matching a CSS selector. */
export const $ = (sel) => document.querySelector(sel);

/** The value at a dotted path (`jit.compile_ns.p99`) of a report, or undefined. */
export const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

/** A finite number, else null. */
export const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The text of an error (an Error's message, or the value itself). */
export const reason = (e) => (e && e.message ? e.message : String(e));

/** A fresh element with properties (`textContent`, `className`, ...) and children. */
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
