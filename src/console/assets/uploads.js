// uploads.js — the Uploads page: the records newest first (GET /v1/uploads),
// with state, file, table, size, rows and duration; a failed or cancelled one
// shows its error under it; "More" follows next_cursor.
import {ApiError, apiJson} from './api.js';
import {clear, formatBytes, formatCount, formatDuration, h} from './dom.js';

const PAGE = 50;

export function renderUploads(main) {
  const body = h('tbody', {});
  const status = h('p', {class: 'hint', id: 'uploads-status'}, 'Loading…');
  const more = h('button', {type: 'button', hidden: true}, 'More');
  const refresh = h('button', {type: 'button'}, 'Refresh');
  let cursor = null;

  async function load(reset) {
    if (reset) { clear(body); cursor = null; }
    status.textContent = 'Loading…';
    more.hidden = true;
    try {
      const page = await apiJson(`/v1/uploads?limit=${PAGE}` + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      for (const record of page.uploads) body.append(...rowsFor(record));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      status.textContent = body.children.length === 0 ? 'No uploads yet.' : '';
    } catch (e) {
      status.textContent = '';
      status.append(h('span', {class: 'error', role: 'alert'}, e instanceof ApiError ? e.message : String(e)));
    }
  }
  more.addEventListener('click', () => load(false));
  refresh.addEventListener('click', () => load(true));

  main.append(h('h1', {}, 'Uploads'),
    h('div', {class: 'toolbar'}, refresh),
    h('div', {class: 'scroll'}, h('table', {class: 'data', id: 'uploads'},
      h('caption', {class: 'visually-hidden'}, 'Uploads, newest first'),
      h('thead', {}, h('tr', {}, ['State', 'File', 'Table', 'Size', 'Rows', 'Rejected', 'Duration', 'Started']
        .map((t) => h('th', {scope: 'col'}, t)))),
      body)),
    status, more);
  load(true);
}

function rowsFor(record) {
  const tableCell = record.state === 'done'
    ? h('a', {href: `#/tables/${encodeURIComponent(record.table)}`}, record.table)
    : record.table;
  const row = h('tr', {class: 'state-' + record.state, dataset: {id: record.id}},
    h('td', {}, h('span', {class: 'badge ' + record.state}, record.state)),
    h('td', {class: 'file'}, record.filename),
    h('td', {}, tableCell),
    h('td', {class: 'num'}, formatBytes(record.bytes_received)),
    h('td', {class: 'num'}, formatCount(record.rows_loaded)),
    h('td', {class: 'num'}, formatCount(record.rows_rejected)),
    h('td', {class: 'num'}, formatDuration(record.duration_ms)),
    h('td', {}, h('time', {datetime: record.created_at}, (record.created_at || '').replace('T', ' ').replace(/\..*$/, ''))));
  if (!record.error) return [row];
  const error = h('tr', {class: 'error-row'},
    h('td', {colspan: 8}, h('span', {class: 'error'}, `${record.error.code}: ${record.error.message}`)));
  return [row, error];
}
