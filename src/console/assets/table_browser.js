// table_browser.js — one table: its columns with their types; a header click
// sorts (ascending, descending, file order); a filter per column with an
// operator menu; next/previous pages by cursor (keyset paging, as fast deep in
// the table as at its start); the total when known (always without filters,
// with filters when "count" is ticked); the current view (filters and sort,
// all pages up to the server's page limit) downloaded as CSV; and the
// aggregate view — group by a column, sum and/or count — with a bar chart.
import {ApiError, apiBlob, apiJson, seg} from './api.js';
import {announce, append, clear, field, formatCount, h, select} from './dom.js';
import {barChart} from './chart.js';

const OPERATORS = [['eq', '='], ['neq', '≠'], ['lt', '<'], ['lte', '≤'], ['gt', '>'], ['gte', '≥'],
  ['like', 'like'], ['ilike', 'ilike'], ['in', 'in'], ['is', 'is']];
const PAGE_SIZES = [25, 50, 100, 500];
/** Rows in one CSV download: the server's default max_page_rows (a smaller one is followed). */
const DOWNLOAD_LIMIT = 10000;
const NUMERIC = /^(BIGINT|INT|DECIMAL|DOUBLE|FLOAT|SMALLINT|TINYINT|MEDIUMINT)/i;

/** One item of a comma-separated list parameter (sort, group_by), quoted when it must be. */
export function listItem(name) {
  return /[",]/.test(name) ? '"' + name.replace(/"/g, '""') + '"' : name;
}

export function renderTableBrowser(main, table) {
  const state = {
    schema: null,
    sort: null,             // {column, dir: 'asc'|'desc'}
    filters: new Map(),     // column → {op, value}
    cursors: [null],        // cursors[i] fetches page i
    page: 0,
    pageSize: 50,
    countExact: false,
    request: 0,             // the latest request's number: older answers are dropped
  };

  const heading = h('h1', {}, 'Table ', h('span', {class: 'mono'}, table));
  const facts = h('p', {class: 'hint', id: 'table-facts'}, 'Loading…');
  const message = h('div', {id: 'table-message'});
  const head = h('thead', {});
  const body = h('tbody', {});
  const grid = h('table', {class: 'data', id: 'rows', 'aria-describedby': 'rows-status'},
    h('caption', {class: 'visually-hidden'}, `Rows of ${table}`), head, body);
  const total = h('output', {id: 'total'}, '');
  const range = h('span', {id: 'rows-range'});
  const rowsStatus = h('p', {id: 'rows-status', class: 'pager-status'}, range, ' · total ', total);
  const prev = h('button', {type: 'button', id: 'prev-page', disabled: true}, '← Previous');
  const next = h('button', {type: 'button', id: 'next-page', disabled: true}, 'Next →');
  const pageSize = select('page-size', PAGE_SIZES.map((n) => [String(n), String(n)]), '50');
  const countBox = h('input', {type: 'checkbox', id: 'count-exact'});
  const download = h('button', {type: 'button', id: 'download-csv'}, 'Download CSV');
  const clearFilters = h('button', {type: 'button', id: 'clear-filters'}, 'Clear filters');

  main.append(heading, facts,
    h('div', {class: 'toolbar'},
      field('Rows per page', pageSize),
      h('div', {class: 'field check'}, countBox, h('label', {for: 'count-exact'}, 'Count matching rows')),
      clearFilters, download),
    message,
    h('div', {class: 'scroll'}, grid),
    h('nav', {class: 'pager', 'aria-label': 'Pages'}, prev, rowsStatus, next),
    h('section', {class: 'card', id: 'aggregate', 'aria-labelledby': 'aggregate-title'},
      h('h2', {id: 'aggregate-title'}, 'Aggregate'),
      h('div', {id: 'aggregate-form'}), h('div', {id: 'aggregate-result'})));

  pageSize.addEventListener('change', () => { state.pageSize = Number(pageSize.value); restart(); });
  countBox.addEventListener('change', () => { state.countExact = countBox.checked; restart(); });
  prev.addEventListener('click', () => { if (state.page > 0) { state.page--; load(); } });
  next.addEventListener('click', () => {
    if (state.cursors[state.page + 1]) { state.page++; load(); }
  });
  clearFilters.addEventListener('click', () => {
    state.filters.clear();
    for (const input of head.querySelectorAll('.filter-value')) input.value = '';
    restart();
  });
  download.addEventListener('click', () => downloadCsv());

  function showError(e) {
    clear(message);
    message.append(h('p', {class: 'error', role: 'alert'}, e instanceof ApiError ? e.message : String(e)));
  }

  /** The view's filters and sort as query parameters. */
  function viewParams() {
    const params = new URLSearchParams();
    for (const [column, {op, value}] of state.filters) params.append('where.' + column, op + ':' + value);
    if (state.sort) params.set('sort', listItem(state.sort.column) + ':' + state.sort.dir);
    return params;
  }

  function restart() {
    state.cursors = [null];
    state.page = 0;
    load();
  }

  function renderHead() {
    clear(head);
    const names = h('tr', {});
    const filters = h('tr', {class: 'filters'});
    for (const column of state.schema.columns) {
      const sorted = state.sort && state.sort.column === column.name ? state.sort.dir : null;
      const arrow = sorted === 'asc' ? ' ▲' : sorted === 'desc' ? ' ▼' : '';
      const button = h('button', {type: 'button', class: 'sort', dataset: {column: column.name},
        title: `Sort by ${column.name}`},
        h('span', {class: 'col-name'}, column.name), arrow, h('br'), h('span', {class: 'col-type'}, column.type));
      button.addEventListener('click', () => cycleSort(column.name));
      names.append(h('th', {scope: 'col', 'aria-sort': sorted === 'asc' ? 'ascending' : sorted === 'desc'
        ? 'descending' : 'none'}, button));

      const current = state.filters.get(column.name);
      const op = h('select', {class: 'filter-op', id: `op-${column.name}`, 'aria-label': `${column.name} operator`,
        dataset: {column: column.name}},
      OPERATORS.map(([v, text]) => h('option', {value: v, selected: current ? current.op === v : v === 'eq'}, text)));
      const value = h('input', {type: 'search', class: 'filter-value', id: `filter-${column.name}`,
        'aria-label': `Filter ${column.name}`, placeholder: 'filter', value: current ? current.value : '',
        dataset: {column: column.name}});
      const apply = () => {
        if (value.value === '') state.filters.delete(column.name);
        else state.filters.set(column.name, {op: op.value, value: value.value});
        restart();
      };
      value.addEventListener('change', apply);
      op.addEventListener('change', () => { if (value.value !== '') apply(); });
      filters.append(h('td', {}, h('div', {class: 'filter'}, op, value)));
    }
    head.append(names, filters);
  }

  function cycleSort(column) {
    if (!state.sort || state.sort.column !== column) state.sort = {column, dir: 'asc'};
    else if (state.sort.dir === 'asc') state.sort = {column, dir: 'desc'};
    else state.sort = null;
    renderHead();
    const button = head.querySelector(`button.sort[data-column="${CSS.escape(column)}"]`);
    if (button) button.focus();
    announce(state.sort ? `Sorted by ${column}, ${state.sort.dir === 'asc' ? 'ascending' : 'descending'}`
      : 'File order');
    restart();
  }

  async function load() {
    const number = ++state.request;
    const params = viewParams();
    params.set('limit', String(state.pageSize));
    const cursor = state.cursors[state.page];
    if (cursor) params.set('cursor', cursor);
    if (state.countExact) params.set('count', 'exact');
    grid.setAttribute('aria-busy', 'true');
    try {
      const page = await apiJson(`/v1/tables/${seg(table)}/rows?${params}`);
      if (number !== state.request) return;
      clear(message);
      renderRows(page);
    } catch (e) {
      if (number === state.request) showError(e);
    } finally {
      if (number === state.request) grid.removeAttribute('aria-busy');
    }
  }

  function renderRows(page) {
    clear(body);
    for (const row of page.rows) {
      body.append(h('tr', {}, state.schema.columns.map((c) => {
        const v = row[c.name];
        const numeric = NUMERIC.test(c.type);
        const text = v === null ? 'NULL' : String(v);
        // Long text is cut with an ellipsis (CSS); the whole value is the cell's tooltip.
        return h('td', {class: (numeric ? 'num' : '') + (v === null ? ' null' : ''), dataset: {column: c.name},
          title: text.length > 28 ? text : null}, text);
      })));
    }
    if (page.rows.length === 0) {
      body.append(h('tr', {}, h('td', {colspan: state.schema.columns.length, class: 'hint'}, 'No rows match.')));
    }
    state.cursors[state.page + 1] = page.next_cursor || null;
    state.cursors.length = state.page + 2;
    const first = state.page * state.pageSize;
    range.textContent = page.rows.length ? `rows ${formatCount(first + 1)}–${formatCount(first + page.rows.length)}`
      : 'no rows';
    total.textContent = page.total === null || page.total === undefined ? 'unknown' : formatCount(page.total);
    total.dataset.total = page.total === null || page.total === undefined ? '' : String(page.total);
    prev.disabled = state.page === 0;
    next.disabled = !page.next_cursor;
    announce(`${range.textContent}, total ${total.textContent}`);
  }

  /** The view as CSV; a server with a smaller max_page_rows says so, and that is asked instead. */
  async function fetchCsv(params, limit) {
    params.set('limit', String(limit));
    try {
      return await apiBlob(`/v1/tables/${seg(table)}/rows?${params}`);
    } catch (e) {
      const most = e instanceof ApiError && e.param === 'limit' && /at most (\d+)/.exec(e.message);
      if (most && Number(most[1]) < limit) return fetchCsv(params, Number(most[1]));
      throw e;
    }
  }

  async function downloadCsv() {
    const params = viewParams();
    params.set('format', 'csv');
    download.disabled = true;
    try {
      const {blob} = await fetchCsv(params, DOWNLOAD_LIMIT);
      const url = URL.createObjectURL(blob);
      const link = h('a', {href: url, download: `${table}.csv`, hidden: true});
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      announce('CSV downloaded');
    } catch (e) {
      showError(e);
    } finally {
      download.disabled = false;
    }
  }

  function renderAggregateForm() {
    const columns = state.schema.columns;
    const numeric = columns.filter((c) => NUMERIC.test(c.type));
    const groupBy = select('group-by', columns.map((c) => [c.name, c.name]), columns[0] ? columns[0].name : '');
    const sum = select('sum', [['', '(none)'], ...(numeric.length ? numeric : columns).map((c) => [c.name, c.name])],
      '');
    const count = h('input', {type: 'checkbox', id: 'agg-count', checked: true});
    const order = select('agg-order', [['group', 'by group'], ['value', 'largest first']], 'value');
    const run = h('button', {type: 'submit', id: 'agg-run', class: 'primary'}, 'Run');
    const form = h('form', {class: 'grid'},
      field('Group by', groupBy), field('Sum of', sum),
      h('div', {class: 'field check'}, count, h('label', {for: 'agg-count'}, 'Count rows')),
      field('Order', order), h('div', {class: 'actions'}, run));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      runAggregate(groupBy.value, sum.value, count.checked, order.value);
    });
    const where = main.querySelector('#aggregate-form');
    clear(where).append(h('p', {class: 'hint'}, 'Uses the filters above.'), form);
  }

  async function runAggregate(groupBy, sum, count, order) {
    const out = main.querySelector('#aggregate-result');
    clear(out);
    if (!sum && !count) {
      out.append(h('p', {class: 'error', role: 'alert'}, 'Choose a sum, a count, or both.'));
      return;
    }
    const params = new URLSearchParams();
    for (const [column, {op, value}] of state.filters) params.append('where.' + column, op + ':' + value);
    params.set('group_by', listItem(groupBy));
    if (sum) params.set('sum', sum);
    if (count) params.set('count', 'true');
    const valueColumn = sum ? 'sum_' + sum : 'count';
    if (order === 'value') params.set('sort', listItem(valueColumn) + ':desc');
    params.set('limit', '100');
    try {
      const answer = await apiJson(`/v1/tables/${seg(table)}/aggregate?${params}`);
      const rows = answer.rows || [];
      const headers = [groupBy, ...(sum ? ['sum_' + sum] : []), ...(count ? ['count'] : [])];
      const items = rows.map((r) => ({label: r[groupBy] === null ? 'NULL' : r[groupBy], value: r[valueColumn]}));
      append(out, [
        barChart(items.slice(0, 40), `${valueColumn} by ${groupBy}`),
        h('div', {class: 'scroll'}, h('table', {class: 'data', id: 'aggregate-table'},
          h('thead', {}, h('tr', {}, headers.map((name) => h('th', {scope: 'col'}, name)))),
          h('tbody', {}, rows.map((r) => h('tr', {}, headers.map((name) =>
            h('td', {class: name === groupBy ? '' : 'num', dataset: {column: name}},
              r[name] === null ? 'NULL' : String(r[name])))))))),
        rows.length >= 100 ? h('p', {class: 'hint'}, 'The first 100 groups.') : null]);
      announce(`${rows.length} groups`);
    } catch (e) {
      out.append(h('p', {class: 'error', role: 'alert'}, e instanceof ApiError ? e.message : String(e)));
    }
  }

  apiJson(`/v1/tables/${seg(table)}`).then((schema) => {
    state.schema = schema;
    facts.textContent = `${formatCount(schema.rows)} rows · ${schema.columns.length} columns` +
      (schema.upload_id ? ` · upload ${schema.upload_id}` : '');
    renderHead();
    renderAggregateForm();
    load();
  }).catch((e) => { facts.textContent = ''; showError(e); });
}
