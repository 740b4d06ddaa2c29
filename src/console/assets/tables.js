// tables.js — the Tables page: every table (GET /v1/tables) with its rows and
// columns, each a link to the table browser.
import {ApiError, apiJson} from './api.js';
import {formatCount, h} from './dom.js';

export function renderTables(main) {
  const list = h('tbody', {});
  const status = h('p', {class: 'hint'}, 'Loading…');
  main.append(h('h1', {}, 'Tables'),
    h('div', {class: 'scroll'}, h('table', {class: 'data', id: 'tables'},
      h('caption', {class: 'visually-hidden'}, 'Tables'),
      h('thead', {}, h('tr', {}, ['Table', 'Rows', 'Columns', 'Created'].map((t) => h('th', {scope: 'col'}, t)))),
      list)),
    status);
  apiJson('/v1/tables').then((tables) => {
    const items = Array.isArray(tables) ? tables : (tables.tables || []);
    for (const t of items) {
      const columns = Array.isArray(t.columns) ? t.columns.length : t.columns;
      list.append(h('tr', {},
        h('td', {}, h('a', {href: `#/tables/${encodeURIComponent(t.name)}`}, t.name)),
        h('td', {class: 'num'}, formatCount(t.rows)),
        h('td', {class: 'num'}, formatCount(columns)),
        h('td', {}, (t.created_at || '').replace('T', ' ').replace(/\..*$/, ''))));
    }
    status.textContent = items.length === 0 ? 'No tables yet: upload a file.' : '';
  }).catch((e) => {
    status.textContent = '';
    status.append(h('span', {class: 'error', role: 'alert'}, e instanceof ApiError ? e.message : String(e)));
  });
}
