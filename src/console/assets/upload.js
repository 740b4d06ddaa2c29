// upload.js — the Upload page: pick or drop a file, set the options (the
// API's defaults pre-filled), then two progress bars: bytes sent (the XHR's
// upload progress) and rows loaded (the upload's /events stream, read with
// fetch so the token goes in a header), then the result: rows loaded, the
// rejected rows with their line and reason, a link to the table.
import {ApiError, readEvents, seg, uploadFile} from './api.js';
import {announce, clear, field, formatBytes, formatCount, formatDuration, h, select} from './dom.js';

/** The API's rule for a table name made from a file name. */
export function tableNameFor(filename) {
  let base = filename.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '');
  base = base.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 64);
  return base || 'upload';
}

export function renderUpload(main) {
  let file = null;
  let tableEdited = false;

  const fileInput = h('input', {id: 'file', type: 'file', accept: '.csv,.tsv,.txt,.jsonl,.ndjson,.gz'});
  const fileName = h('span', {id: 'file-name', class: 'hint'}, 'No file chosen');
  const drop = h('label', {class: 'drop', for: 'file', id: 'drop'},
    h('strong', {}, 'Choose a file'), ' or drop it here', h('br'), fileName);
  const table = h('input', {id: 'table', type: 'text', required: true, maxlength: 64, pattern: '[A-Za-z0-9_]+',
    autocomplete: 'off', spellcheck: 'false'});
  const mode = select('mode', [['create', 'create (new table)'], ['replace', 'replace (atomic swap)'],
    ['append', 'append (same columns)']], 'create');
  const delimiter = select('delimiter', [['auto', 'auto (sniff)'], [',', ', comma'], [';', '; semicolon'],
    ['\t', 'tab'], ['|', '| pipe']], 'auto');
  const types = select('types', [['infer', 'infer (numbers, dates, text)'], ['text', 'text (every column TEXT)']],
    'infer');
  const header = select('header', [['true', 'first row is the header'], ['false', 'no header (c1, c2, …)']], 'true');
  const encoding = select('encoding', [['auto', 'auto'], ['utf-8', 'UTF-8'], ['latin-1', 'Latin-1']], 'auto');
  const onError = select('on_error', [['skip', 'skip bad rows (reported)'], ['abort', 'abort on the first']], 'skip');
  const submit = h('button', {type: 'submit', id: 'upload-button', class: 'primary'}, 'Upload');
  const progressArea = h('div', {id: 'upload-progress', class: 'progress-area'});
  const result = h('div', {id: 'upload-result'});

  function setFile(f) {
    file = f;
    fileName.textContent = f ? `${f.name} (${formatBytes(f.size)})` : 'No file chosen';
    if (f && !tableEdited) table.value = tableNameFor(f.name);
  }
  fileInput.addEventListener('change', () => setFile(fileInput.files[0] || null));
  table.addEventListener('input', () => { tableEdited = table.value !== ''; });
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer.files.length > 0) setFile(e.dataTransfer.files[0]);
  });

  const form = h('form', {id: 'upload-form', class: 'card', novalidate: true},
    h('div', {class: 'field wide'}, fileInput, drop),
    h('div', {class: 'grid'},
      field('Table name', table, 'letters, digits and _'),
      field('Mode', mode),
      field('Delimiter', delimiter),
      field('Types', types),
      field('Header', header),
      field('Encoding', encoding),
      field('Bad rows', onError)),
    h('div', {class: 'actions'}, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(result);
    if (!file) { showError(result, 'Choose a file first.'); fileInput.focus(); return; }
    if (!/^[A-Za-z0-9_]{1,64}$/.test(table.value)) {
      showError(result, 'The table name may hold letters, digits and _ (at most 64).');
      table.focus();
      return;
    }
    const params = new URLSearchParams({table: table.value, mode: mode.value, delimiter: delimiter.value,
      types: types.value, header: header.value, encoding: encoding.value, on_error: onError.value});
    submit.disabled = true;
    try {
      await runUpload('/v1/uploads?' + params, file, progressArea, result);
    } finally {
      submit.disabled = false;
    }
  });

  main.append(h('h1', {}, 'Upload a file'),
    h('p', {class: 'hint'}, 'CSV, TSV or JSON lines, optionally gzip-compressed. The original goes to S3; the rows ',
      'become a table you can browse.'),
    form, progressArea, result);
}

function showError(where, message) {
  where.append(h('p', {class: 'error', role: 'alert'}, message));
}

function bar(id, label) {
  const progress = h('progress', {id, max: 1, value: 0, 'aria-labelledby': id + '-label'});
  const text = h('span', {class: 'progress-text', id: id + '-text'});
  return {el: h('div', {class: 'progress'}, h('span', {id: id + '-label'}, label), progress, text), progress, text};
}

async function runUpload(url, file, progressArea, result) {
  clear(progressArea);
  const sent = bar('bytes-progress', 'Bytes sent');
  const rows = bar('rows-progress', 'Rows loaded');
  const state = h('output', {id: 'upload-state', class: 'state'}, 'sending');
  progressArea.append(sent.el, rows.el, h('p', {}, 'State: ', state));
  announce('Upload started');
  let record;
  try {
    const answer = await uploadFile(url, file, (done, total) => {
      sent.progress.max = total || 1;
      sent.progress.value = done;
      sent.text.textContent = `${formatBytes(done)} of ${formatBytes(total)}`;
    });
    sent.progress.value = sent.progress.max;
    record = answer.body;
    showRecordProgress(record, rows, state);
    if (answer.status === 202) {
      await readEvents(`/v1/uploads/${seg(record.id)}/events`, (name, data) => {
        if (data && typeof data === 'object') {
          record = data;
          showRecordProgress(record, rows, state);
        }
      });
    }
  } catch (e) {
    if (e instanceof ApiError && e.body && e.body.state) record = e.body;  // 422: the failed record
    if (!record) {
      state.textContent = 'failed';
      state.dataset.state = 'failed';
      showError(result, e.message + (e.code === 'duplicate_upload' && e.body && e.body.upload_id
        ? ` (upload ${e.body.upload_id})` : ''));
      announce('Upload failed: ' + e.message);
      return;
    }
  }
  showRecordProgress(record, rows, state);
  showResult(result, record);
  announce(`Upload ${record.state}: ${formatCount(record.rows_loaded)} rows loaded`);
}

function showRecordProgress(record, rows, state) {
  if (!record) return;
  const total = Math.max(record.rows_total || 0, record.rows_loaded || 0);
  rows.progress.max = total || 1;
  rows.progress.value = record.state === 'done' ? rows.progress.max : (record.rows_loaded || 0);
  rows.text.textContent = `${formatCount(record.rows_loaded)} of ${formatCount(total)} parsed`;
  state.textContent = record.state;
  state.dataset.state = record.state;
}

export function showResult(result, record) {
  clear(result);
  const ok = record.state === 'done';
  const items = [
    ['State', record.state],
    ['Rows loaded', formatCount(record.rows_loaded)],
    ['Rows rejected', formatCount(record.rows_rejected)],
    ['File', `${record.filename} (${formatBytes(record.bytes_received)})`],
    ['Duration', formatDuration(record.duration_ms)],
  ];
  if (record.s3 && record.s3.key) items.push(['Stored as', `s3://${record.s3.bucket}/${record.s3.key}`]);
  const card = h('section', {class: 'card result ' + (ok ? 'ok' : 'bad'), 'aria-labelledby': 'result-title'},
    h('h2', {id: 'result-title'}, ok ? 'Loaded' : 'Not loaded'),
    h('dl', {class: 'facts'}, items.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
  if (record.error) {
    card.append(h('p', {class: 'error', role: 'alert'}, `${record.error.code}: ${record.error.message}`));
  }
  if (ok) {
    card.append(h('p', {}, h('a', {href: `#/tables/${encodeURIComponent(record.table)}`, id: 'table-link'},
      `Browse table ${record.table}`)));
  }
  if (record.rejected && record.rejected.length > 0) {
    card.append(h('h3', {}, `Rejected rows (${formatCount(record.rows_rejected)})`),
      h('div', {class: 'scroll'}, h('table', {class: 'data', id: 'rejected'},
        h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Line'), h('th', {scope: 'col'}, 'Reason'))),
        h('tbody', {}, record.rejected.map((r) => h('tr', {}, h('td', {class: 'num'}, r.line), h('td', {}, r.reason)))))));
    if (record.rows_rejected > record.rejected.length) {
      card.append(h('p', {class: 'hint'}, `The first ${record.rejected.length} are listed.`));
    }
  }
  result.append(card);
}
