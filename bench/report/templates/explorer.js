(async function () {
  const raw = Uint8Array.from(atob(document.getElementById('data').textContent), c => c.charCodeAt(0));
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('gzip'));
  const D = JSON.parse(await new Response(stream).text());
  const el = (tag, attrs, ...kids) => { const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    for (const k of kids) e.append(k); return e; };
  const sel = document.getElementById('need'), filter = document.getElementById('filter');
  const cols = document.getElementById('cols');
  const pages = {};
  function options() {
    const q = filter.value.toLowerCase(); const keep = sel.value; sel.textContent = '';
    for (const n of D.needs) if (!q || (n.id + ' ' + n.description).toLowerCase().includes(q))
      sel.append(el('option', {value: n.id}, n.id + (n.description ? ' - ' + n.description : '')));
    if ([...sel.options].some(o => o.value === keep)) sel.value = keep;
  }
  function record(i) {
    const r = D.records[D.ids[i]];
    return r ? r : {s: '', d: '', t: D.missing_corpus ? '(' + D.missing_corpus + ')' : '(record not found)'};
  }
  function show() {
    const need = D.needs.find(n => n.id === sel.value); cols.textContent = '';
    if (!need) return;
    document.getElementById('about').textContent = need.kind + ' need; ' + need.relevant + ' relevant records. ' + need.description;
    for (const p of D.profiles) {
      const v = need.profiles[p.id]; const key = need.id + '|' + p.id; const page = pages[key] || 0;
      const rel = new Set(v.rel); const col = el('section', {class: 'col', 'data-profile': p.id});
      col.append(el('h2', {}, p.label + (p.upper_bound ? ' (upper bound)' : '')));
      col.append(el('div', {class: 'meta'}, v.total + ' returned, ' + v.rel_total + ' relevant' +
        (v.total > v.list.length ? ' (the first ' + v.list.length + ' shown; all are in runs/' + p.id + '.run)' : '') +
        (v.examined !== null ? '; the modelled analyst read ' + v.examined : '') + (v.error ? '; search failed: ' + v.error : '')));
      if (v.lost.length) col.append(el('div', {class: 'lost'}, 'Could not express: ' + v.lost.join(', ').replaceAll('_', ' ')));
      const start = page * D.page, ol = el('ol', {start: String(start + 1)});
      for (let i = start; i < Math.min(v.list.length, start + D.page); i++) {
        const rid = D.ids[v.list[i]], r = record(v.list[i]), ok = rel.has(i);
        ol.append(el('li', {class: ok ? 'rel' : 'not'}, el('b', {}, rid), ' ', r.s + ' ' + r.d, el('br'), r.t, el('br'),
          el('span', {class: 'why'}, ok ? 'relevant' : 'not relevant: about ' + ((r.a || []).join('; ') || 'no one named'))));
        if (v.examined !== null && i + 1 === v.examined)
          ol.append(el('li', {class: 'stop'}, 'the modelled analyst stopped here, after ' + v.examined + ' records'));
      }
      col.append(ol);
      const last = Math.max(0, Math.ceil(v.list.length / D.page) - 1);
      const prev = el('button', {type: 'button', class: 'prev'}, '< previous'), next = el('button', {type: 'button', class: 'next'}, 'next >');
      prev.disabled = page === 0; next.disabled = page >= last;
      prev.onclick = () => { pages[key] = page - 1; show(); }; next.onclick = () => { pages[key] = page + 1; show(); };
      col.append(el('div', {class: 'pager'}, prev, ' page ' + (page + 1) + ' of ' + (last + 1) + ' ', next));
      if (v.missed.length) {
        const ul = el('ul', {class: 'missed'});
        for (const i of v.missed.slice(0, D.page)) { const r = record(i);
          ul.append(el('li', {}, el('b', {}, D.ids[i]), ' ', r.s + ': ' + r.t, el('br'),
            el('span', {class: 'why'}, 'missed; errors as written: ' + ((r.k || []).join(', ').replaceAll('_', ' ') || 'none (clean)')))); }
        col.append(el('h3', {}, v.missed.length + ' relevant records missed' + (v.missed.length > D.page ? ' (first ' + D.page + ')' : '')), ul);
      }
      cols.append(col);
    }
  }
  filter.oninput = () => { options(); show(); }; sel.onchange = show;
  options(); show(); document.body.dataset.ready = '1';
})();
