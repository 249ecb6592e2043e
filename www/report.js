// Reports out of the page (JSON and CSV downloads) and the share link
// (workload + non-default settings in the query string) back into it.

/** Saves text as a file download. */
export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const csvCell = (v) => {
  const s = v == null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** key,value rows for every scalar in the report (dotted keys; list items by
 *  index, tlb.levels by name), then the series as series,instructions,value. */
export function reportToCsv(report) {
  const rows = [['key', 'value']];
  // Arrays of [instructions, value] points anywhere in the report (series,
  // jit.threshold_series) go to the series section, one row per point.
  const isSeries = (v) => Array.isArray(v) && v.length > 0
    && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((n) => typeof n === 'number'));
  const extra = [];
  const walk = (v, key) => {
    if (isSeries(v)) {
      extra.push([key, v]);
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        const name = item && typeof item === 'object' && 'name' in item ? item.name : i;
        walk(item, `${key}.${name}`);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) walk(child, key ? `${key}.${k}` : k);
    } else {
      rows.push([key, v]);
    }
  };
  const { series, ...rest } = report;
  walk(rest, '');
  rows.push([]);
  rows.push(['series', 'instructions', 'value']);
  for (const [name, points] of [...Object.entries(series || {}), ...extra]) {
    for (const [x, y] of points || []) rows.push([name, x, y]);
  }
  return rows.map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** The page's URL with ?workload=NAME&set=key=value&... (other params dropped). */
export function shareUrl(workload, settings, lang, uploaded = null) {
  const url = new URL(location.href);
  url.search = '';
  url.hash = '';
  const p = new URLSearchParams();
  if (workload) p.set('workload', workload);
  // An uploaded program cannot travel in a link: the link names it, carries
  // the knobs, and does not run (it would run another program).
  if (uploaded) p.set('elf', uploaded);
  for (const [k, v] of Object.entries(settings)) p.append('set', `${k}=${v}`);
  if (lang && lang !== 'en') p.set('lang', lang);
  if (!uploaded) p.set('run', '1'); // opening the link runs it: the link reproduces a run
  url.search = p.toString();
  return url.toString();
}

/** What a share link asks for: {workload|null, elf (the name of an uploaded
 *  program the link was made with)|null, settings: [[key, value]],
 *  lang|null, run (start a run once the page is ready), bad: [text]}. */
export function parseShareUrl(href) {
  const p = new URL(href).searchParams;
  const settings = [];
  const bad = [];
  for (const item of p.getAll('set')) {
    const eq = item.indexOf('=');
    if (eq <= 0) bad.push(`set=${item}: expected key=value`);
    else settings.push([item.slice(0, eq).trim(), item.slice(eq + 1)]);
  }
  return {
    workload: p.get('workload'), elf: p.get('elf'), settings, lang: p.get('lang'), run: p.get('run') === '1', bad,
  };
}
