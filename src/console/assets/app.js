// app.js — the console's entry point: the token field (sessionStorage), and
// the pages behind the address's #fragment — #/upload, #/uploads, #/tables,
// #/tables/<name> — so the browser's back button and bookmarks work while the
// server serves one page. Each page module renders into <main>.
import {getToken, setToken} from './api.js';
import {announce, clear, h} from './dom.js';
import {renderUpload} from './upload.js';
import {renderUploads} from './uploads.js';
import {renderTables} from './tables.js';
import {renderTableBrowser} from './table_browser.js';

const main = document.getElementById('main');

function setUpToken() {
  const form = document.getElementById('token-form');
  const input = document.getElementById('token');
  input.value = getToken();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(input.value.trim());
    announce(input.value.trim() ? 'Token saved for this tab' : 'Token cleared');
    route();
  });
}

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [page, ...rest] = hash.split('/');
  const name = page || 'upload';
  for (const link of document.querySelectorAll('[data-nav]')) {
    const current = link.dataset.nav === name;
    if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  clear(main);
  try {
    if (name === 'upload') renderUpload(main);
    else if (name === 'uploads') renderUploads(main);
    else if (name === 'tables' && rest.length > 0 && rest.join('/') !== '') renderTableBrowser(main, rest.join('/'));
    else if (name === 'tables') renderTables(main);
    else main.append(h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', {href: '#/upload'}, 'Upload a file')));
  } catch (e) {
    main.append(h('p', {class: 'error', role: 'alert'}, String(e)));
  }
  const heading = main.querySelector('h1');
  document.title = (heading ? heading.textContent + ' — ' : '') + 'sluice console';
}

/** Moves focus to the new page's content after a navigation by keyboard or click. */
function focusMain() {
  main.focus({preventScroll: true});
}

setUpToken();
window.addEventListener('hashchange', () => { route(); focusMain(); });
route();
