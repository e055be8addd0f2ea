{# The parts about a list cut to its first records are in a capped page only (if 'cap' in meta): a page of whole lists stays as it was, byte for byte. #}(async function () {
  // Each blob is gzip-compressed JSON in base64, unpacked by the browser's own DecompressionStream.
  async function unpack(id) {
    const raw = Uint8Array.from(atob(document.getElementById(id).textContent), c => c.charCodeAt(0));
    const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip'));
    return JSON.parse(await new Response(stream).text());
  }
  const D = await unpack('meta'), R = await unpack('records');
  const el = (tag, attrs, ...kids) => { const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k); return e; };
  const sel = document.getElementById('need'), filter = document.getElementById('filter');
  const cols = document.getElementById('cols');
  const pages = {}, cache = {};
  const undelta = d => { const out = new Int32Array(d.length); let v = 0;
    for (let i = 0; i < d.length; i++) { v += d[i]; out[i] = v; } return out; };
  // A union profile's list: each member's list in turn, a record already shown left out.
  function merged(parts) { const seen = new Uint8Array(R.ids.length), out = [];
    for (const p of parts) for (const i of p) if (!seen[i]) { seen[i] = 1; out.push(i); } return Int32Array.from(out); }
  async function lists(index) {
    if (cache[index]) return cache[index];
    const L = await unpack('need-' + index), out = {rel: new Set(undelta(L.rel)), lists: {}};{% if 'cap' in meta %}
    // a list cut to its first records: the relevant ones it holds past them are not missed
    out.beyond = {}; for (const [p, v] of Object.entries(L.beyond || {})) out.beyond[p] = new Set(undelta(v));{% endif %}
    for (const [p, v] of Object.entries(L.lists)) if (Array.isArray(v)) out.lists[p] = undelta(v);
    for (const [p, v] of Object.entries(L.lists)) if (!Array.isArray(v)) out.lists[p] = merged(v.of.map(m => out.lists[m]));
    return (cache[index] = out);
  }
  function options() {
    const q = filter.value.toLowerCase(); const keep = sel.value; sel.textContent = '';
    for (const n of D.needs) if (!q || (n.id + ' ' + n.description).toLowerCase().includes(q))
      sel.append(el('option', {value: n.id}, n.id + (n.description ? ' - ' + n.description : '')));
    if ([...sel.options].some(o => o.value === keep)) sel.value = keep;
  }
  function record(i) {
    if (!R.found[i]) return {s: '', d: '', t: D.missing_corpus ? '(' + D.missing_corpus + ')' : '(record not found)', a: [], k: []};
    return {s: R.sources[R.s[i]], d: R.d[i], t: R.t[i], a: R.a[i].map(j => R.names[j]), k: R.k[i].map(j => R.kinds[j])};
  }
  let shown = 0;
  async function show() {
    const index = D.needs.findIndex(n => n.id === sel.value), need = D.needs[index], ticket = ++shown;
    if (!need) { cols.textContent = ''; return; }
    const L = await lists(index);
    if (ticket !== shown) return;  // another need was picked meanwhile
    cols.textContent = '';
    document.getElementById('about').textContent = need.kind + ' need; ' + need.relevant + ' relevant records. ' + need.description;
    for (const p of D.profiles) {
      const v = need.profiles[p.id], list = L.lists[p.id]; const key = need.id + '|' + p.id; const page = pages[key] || 0;
      const col = el('section', {class: 'col', 'data-profile': p.id});
      col.append(el('h2', {}, p.label + (p.upper_bound ? ' (upper bound)' : '')));
      col.append(el('div', {class: 'meta'}, v.total + ' returned, ' + v.rel_total + ' relevant' +
        (v.examined !== null ? '; the modelled analyst read ' + v.examined + ' ' + v.unit : '') + (v.error ? '; search failed: ' + v.error : '')));{% if 'cap' in meta %}
      if (v.shown !== undefined) col.append(el('div', {class: 'lost cut'}, 'first ' + v.shown + ' of ' + v.total +
        ' records shown; the whole list is in runs/' + p.id + '.run'));{% endif %}
      if (v.lost.length) col.append(el('div', {class: 'lost'}, 'Could not express: ' + v.lost.join(', ').replaceAll('_', ' ')));
      const start = page * D.page, ol = el('ol', {start: String(start + 1)});
      for (let i = start; i < Math.min(list.length, start + D.page); i++) {
        const rid = R.ids[list[i]], r = record(list[i]), ok = L.rel.has(list[i]);
        ol.append(el('li', {class: ok ? 'rel' : 'not'}, el('b', {}, rid), ' ', r.s + ' ' + r.d, el('br'), r.t, el('br'),
          el('span', {class: 'why'}, ok ? 'relevant' : 'not relevant: about ' + (r.a.join('; ') || 'no one named'))));
        if (v.stop !== null && i + 1 === v.stop)
          ol.append(el('li', {class: 'stop'}, 'the modelled analyst stopped here, after ' + v.examined + ' ' + v.unit));
      }{% if 'cap' in meta %}
      // the reader stopped past the records embedded: said at the end of them, not marked on one
      if (v.stop !== null && v.stop > list.length && start + D.page >= list.length)
        ol.append(el('li', {class: 'stop beyond'}, 'the modelled analyst read on past the ' + list.length +
          ' records shown, stopping after record ' + v.stop + ' (' + v.examined + ' ' + v.unit + ')'));{% endif %}
      col.append(ol);
      const last = Math.max(0, Math.ceil(list.length / D.page) - 1);
      const prev = el('button', {type: 'button', class: 'prev'}, '< previous'), next = el('button', {type: 'button', class: 'next'}, 'next >');
      prev.disabled = page === 0; next.disabled = page >= last;
      prev.onclick = () => { pages[key] = page - 1; show(); }; next.onclick = () => { pages[key] = page + 1; show(); };
      col.append(el('div', {class: 'pager'}, prev, ' page ' + (page + 1) + ' of ' + (last + 1) + ' ', next));
      const listed = new Set(list), missed = [...L.rel].filter(i => !listed.has(i){% if 'cap' in meta %} && !(L.beyond[p.id] && L.beyond[p.id].has(i)){% endif %}).sort((a, b) => a - b);
      if (missed.length) {
        const ul = el('ul', {class: 'missed'});
        for (const i of missed.slice(0, D.page)) { const r = record(i);
          ul.append(el('li', {}, el('b', {}, R.ids[i]), ' ', r.s + ': ' + r.t, el('br'),
            el('span', {class: 'why'}, 'missed; errors as written: ' + (r.k.join(', ').replaceAll('_', ' ') || 'none (clean)')))); }
        col.append(el('h3', {}, missed.length + ' relevant records missed' + (missed.length > D.page ? ' (first ' + D.page + ')' : '')), ul);
      }
      cols.append(col);
    }
    document.body.dataset.shown = need.id;
  }
  filter.oninput = () => { options(); show(); }; sel.onchange = show;
  options(); await show(); document.body.dataset.ready = '1';
})();
