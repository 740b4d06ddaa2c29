// console_e2e.cjs — the web console in headless Chromium (playwright-core),
// run by console_browser_test.cpp against a real `sluice serve` (auth on,
// MariaDB, S3). Every expected value comes from the CSV file itself or from
// the API, never from the page:
//   0. without a token the API answers 401 and the page asks for one;
//   1. the token typed into the token field; titanic.csv uploaded through the
//      Upload page (file input, table name) until its state shows "done",
//      both progress bars full, 891 rows loaded;
//      a small file with a bad row: the row is listed with line and reason;
//      titanic.csv again into the same table: refused as a duplicate;
//   2. the table browser (from the uploads list's link) shows total 891 and
//      the columns with their types; next/previous pages;
//   3. Fare clicked twice (descending): the first row holds the CSV's highest
//      fare and the page is in descending order;
//   4. Sex = female: every row is a woman; with "count" ticked the total is
//      the CSV's number of women;
//   5. "Download CSV" gives the same bytes as the API's CSV answer for the
//      same view (the same filter and sort, asked with curl-like fetch);
//   6. the aggregate (group by Pclass, sum of Fare) shows one bar per class;
//   7. the Uploads page lists the upload as done with its file and table;
//   8. at a phone's width the pages do not scroll sideways;
//   9. the Content-Security-Policy is in force (an injected inline script is
//      refused); and no other console error or CSP violation happened.
// A screenshot of each step goes to $SLUICE_SCREENSHOTS. Exit 0 = pass.
'use strict';
const fs = require('fs');
const path = require('path');
const {chromium} = require(process.env.SLUICE_PLAYWRIGHT);

const BASE = process.env.SLUICE_URL.replace(/\/$/, '');
const TOKEN = process.env.SLUICE_TOKEN;
const TABLE = process.env.SLUICE_TABLE;
const CSV = process.env.SLUICE_CSV;
const SHOTS = process.env.SLUICE_SCREENSHOTS;
const WAIT = {timeout: 60000};

function fail(message) { throw new Error(message); }
function check(condition, message) { if (!condition) fail(message); console.log('ok   ' + message); }

/** RFC 4180 reading of the whole file: rows of fields. */
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

async function api(pathAndQuery) {
  const r = await fetch(BASE + pathAndQuery, {headers: {Authorization: 'Bearer ' + TOKEN}});
  if (!r.ok) fail(`API ${pathAndQuery}: ${r.status} ${await r.text()}`);
  return r;
}

async function main() {
  const [header, ...records] = parseCsv(fs.readFileSync(CSV, 'utf8'));
  const col = (name) => header.indexOf(name);
  const fares = records.map((r) => Number(r[col('Fare')]));
  const maxFare = Math.max(...fares);
  const women = records.filter((r) => r[col('Sex')] === 'female').length;
  console.log(`expected from the CSV: ${records.length} rows, highest fare ${maxFare}, ${women} women`);

  fs.mkdirSync(SHOTS, {recursive: true});
  const t0 = Date.now();
  const browser = await chromium.launch({
    executablePath: process.env.SLUICE_CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  const problems = [];
  try {
    const context = await browser.newContext({acceptDownloads: true, viewport: {width: 1280, height: 860}});
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    const shot = async (name, fullPage = false) => page.screenshot({path: path.join(SHOTS, name), fullPage});

    // 0. Without the token the API refuses, and the page says what to do.
    await page.goto(BASE + '/#/tables');
    await page.waitForSelector('main [role=alert]', WAIT);
    check(/token/.test(await page.textContent('main [role=alert]')), 'no token: the page asks for one (401)');

    // 1. Upload.
    await page.goto(BASE + '/#/upload');
    await page.fill('#token', TOKEN);
    await page.click('#token-form button[type=submit]');
    check(await page.evaluate(() => sessionStorage.getItem('sluice.token')) === TOKEN, 'token kept in sessionStorage');
    await page.setInputFiles('#file', CSV);
    check(await page.inputValue('#table') === 'titanic', 'table name defaults from the file name');
    await page.fill('#table', TABLE);
    await page.click('#upload-button');
    await page.waitForSelector('#upload-state[data-state="done"], #upload-state[data-state="failed"]', WAIT);
    await shot('01-upload-done.png', true);
    check(await page.textContent('#upload-state') === 'done', 'upload state shows "done"');
    const bytes = await page.$eval('#bytes-progress', (p) => [p.value, p.max]);
    // The multipart body is the file plus its part's head and boundaries.
    const size = fs.statSync(CSV).size;
    check(bytes[0] === bytes[1] && bytes[1] >= size && bytes[1] < size + 1024, `bytes bar full (${bytes})`);
    const rowsBar = await page.$eval('#rows-progress', (p) => [p.value, p.max]);
    check(rowsBar[0] === rowsBar[1] && rowsBar[1] === records.length, `rows bar full at ${records.length} (${rowsBar})`);
    const result = await page.textContent('#upload-result');
    check(/Rows loaded\s*891/.test(result) && /Rows rejected\s*0/.test(result), 'result: 891 rows loaded, 0 rejected');
    check(await page.getAttribute('#table-link', 'href') === `#/tables/${TABLE}`, 'result links to the table');

    // 1b. A file with a bad row: loaded with the row rejected, line and reason shown.
    await page.goto(BASE + '/#/uploads');  // away and back: a fresh Upload page
    await page.goto(BASE + '/#/upload');
    await page.setInputFiles('#file', {name: 'bad_rows.csv', mimeType: 'text/csv',
      buffer: Buffer.from('a,b\n1,2\n3\n4,5\n')});
    await page.fill('#table', TABLE + '_bad');
    await page.click('#upload-button');
    await page.waitForSelector('#upload-state[data-state="done"], #upload-state[data-state="failed"]', WAIT);
    const rejected = await page.$$eval('#rejected tbody tr td', (tds) => tds.map((td) => td.textContent));
    check(rejected.length === 2 && rejected[0] === '3' && /field/.test(rejected[1]),
      `rejected row listed with its line and reason (${rejected.join(': ')})`);
    check(/Rows loaded\s*2/.test(await page.textContent('#upload-result')), 'the two good rows loaded');
    await shot('01b-upload-rejected-row.png', true);
    await page.goto(BASE + '/#/upload');
    await page.setInputFiles('#file', CSV);
    await page.fill('#table', TABLE);
    await page.click('#upload-button');
    await page.waitForSelector('#upload-state[data-state="failed"]', WAIT);
    check(/already|duplicate/i.test(await page.textContent('#upload-result')),
      'the same file again: the duplicate is refused with a clear message');
    problems.splice(0, problems.length, ...problems.filter((p) => !/status of 409/.test(p)));
    await page.goto(BASE + '/#/uploads');
    await page.waitForSelector(`#uploads a[href="#/tables/${TABLE}"]`, WAIT);

    // 2. The table browser, from the uploads list's link.
    await page.click(`#uploads a[href="#/tables/${TABLE}"]`);
    await page.waitForSelector('#total[data-total]:not([data-total=""])', WAIT);
    check(await page.getAttribute('#total', 'data-total') === String(records.length), `total shows ${records.length}`);
    const fareType = await page.textContent('button.sort[data-column="Fare"] .col-type');
    check(/^DECIMAL|^DOUBLE/.test(fareType), `Fare shown with its type (${fareType})`);
    const shown = await page.$$eval('#rows tbody tr', (rows) => rows.length);
    check(shown === 50, 'first page holds 50 rows');
    await shot('02-table.png');
    await page.click('#next-page');
    await page.waitForFunction(() => /rows 51–100/.test(document.querySelector('#rows-range').textContent), null, WAIT);
    check(true, 'next page by cursor shows rows 51–100');
    await page.click('#prev-page');
    await page.waitForFunction(() => /rows 1–50/.test(document.querySelector('#rows-range').textContent), null, WAIT);
    check(true, 'previous page goes back to rows 1–50');

    // 3. Sort by Fare, descending (two clicks; the second by keyboard).
    await page.click('button.sort[data-column="Fare"]');
    await page.waitForSelector('th[aria-sort="ascending"] button[data-column="Fare"]', WAIT);
    await page.focus('button.sort[data-column="Fare"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('th[aria-sort="descending"] button[data-column="Fare"]', WAIT);
    await page.waitForFunction((max) => {
      const cell = document.querySelector('#rows tbody tr td[data-column="Fare"]');
      return cell && Number(cell.textContent) === max;
    }, maxFare, WAIT);
    const pageFares = await page.$$eval('#rows tbody td[data-column="Fare"]', (cells) => cells.map((c) => Number(c.textContent)));
    check(pageFares[0] === maxFare, `highest fare first (${pageFares[0]})`);
    check(pageFares.every((f, i) => i === 0 || pageFares[i - 1] >= f), 'the page is in descending fare order');
    await shot('03-sorted-fare-desc.png');

    // 4. Filter Sex = female.
    await page.selectOption('select.filter-op[data-column="Sex"]', 'eq');
    await page.fill('#filter-Sex', 'female');
    await page.press('#filter-Sex', 'Enter');
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('#rows tbody td[data-column="Sex"]')];
      return cells.length > 0 && cells.every((c) => c.textContent === 'female');
    }, null, WAIT);
    check(true, 'filter Sex = female shows only women');
    await page.check('#count-exact');
    await page.waitForFunction((n) => document.querySelector('#total').dataset.total === String(n), women, WAIT);
    check(true, `counted total is ${women} women`);
    const fFares = await page.$$eval('#rows tbody td[data-column="Fare"]', (cells) => cells.map((c) => Number(c.textContent)));
    check(fFares.every((f, i) => i === 0 || fFares[i - 1] >= f), 'still sorted by fare, descending');
    await shot('04-filter-female.png');

    // 5. Download the view as CSV; compare with the API's CSV for the same view.
    const [download] = await Promise.all([page.waitForEvent('download', WAIT), page.click('#download-csv')]);
    const downloaded = fs.readFileSync(await download.path(), 'utf8');
    const expected = await (await api(`/v1/tables/${TABLE}/rows?Sex=eq:female&sort=Fare:desc&limit=10000&format=csv`)).text();
    check(download.suggestedFilename() === `${TABLE}.csv`, `download named ${TABLE}.csv`);
    check(downloaded === expected, `downloaded CSV equals the API's (${downloaded.length} bytes)`);
    check(parseCsv(downloaded).length === women + 1, `CSV holds a header and ${women} rows`);

    // 6. Aggregate: women per class, sum of fares, with a bar per class.
    await page.selectOption('#group-by', 'Pclass');
    await page.selectOption('#sum', 'Fare');
    await page.click('#agg-run');
    await page.waitForSelector('#aggregate-table tbody tr', WAIT);
    const groups = await page.$$eval('#aggregate-table tbody tr', (rows) => rows.length);
    const bars = await page.$$eval('#aggregate svg.chart rect.chart-bar', (r) => r.length);
    const classes = new Set(records.filter((r) => r[col('Sex')] === 'female').map((r) => r[col('Pclass')])).size;
    check(groups === classes && bars === classes, `aggregate: ${classes} groups, ${classes} bars`);
    const firstGroup = await page.$$eval('#aggregate-table tbody tr:first-child td', (tds) => tds.map((t) => t.textContent));
    const fareByClass = {};
    for (const r of records) {
      if (r[col('Sex')] === 'female') fareByClass[r[col('Pclass')]] = (fareByClass[r[col('Pclass')]] || 0) + Number(r[col('Fare')]);
    }
    const topClass = Object.entries(fareByClass).sort((a, b) => b[1] - a[1])[0];
    check(firstGroup[0] === topClass[0] && Math.abs(Number(firstGroup[1]) - topClass[1]) < 0.01,
      `largest sum first: class ${firstGroup[0]}, ${firstGroup[1]} (CSV: ${topClass[1].toFixed(4)})`);
    await page.$eval('#aggregate', (el) => el.scrollIntoView());
    await shot('05-aggregate.png');

    // 7. The uploads list.
    await page.click('a[data-nav="uploads"]');
    const rowOf = (table) => [...document.querySelectorAll('#uploads tbody tr')]
      .map((tr) => [...tr.children].map((td) => td.textContent))
      .find((cells) => cells[2] === table);
    await page.waitForFunction(rowOf, TABLE, WAIT);
    const cells = await page.evaluate(rowOf, TABLE);
    check(cells[0] === 'done' && cells[1] === 'titanic.csv' && cells[4] === '891',
      `uploads list: ${cells.slice(0, 5).join(' | ')}`);
    await shot('06-uploads.png');

    // 8. A phone's width: nothing scrolls sideways but the tables' own boxes.
    await page.setViewportSize({width: 390, height: 844});
    await page.goto(`${BASE}/#/tables/${TABLE}`);
    await page.waitForSelector('#total[data-total]:not([data-total=""])', WAIT);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `no sideways scroll at 390 px (${overflow})`);
    await shot('07-phone-table.png');
    await page.goto(`${BASE}/#/upload`);
    await page.waitForSelector('#upload-form', WAIT);
    const uploadOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(uploadOverflow <= 0, `Upload page: no sideways scroll at 390 px (${uploadOverflow})`);
    await shot('08-phone-upload.png', true);

    // 9. The policy is in force: an injected inline script does not run.
    const verdict = await page.evaluate(() => new Promise((resolve) => {
      document.addEventListener('securitypolicyviolation', (e) => resolve('blocked: ' + e.effectiveDirective),
        {once: true});
      const script = document.createElement('script');
      script.textContent = 'window.sluiceInlineRan = true';
      document.head.append(script);
      setTimeout(() => resolve(window.sluiceInlineRan ? 'ran' : 'no violation event'), 5000);
    }));
    check(/^blocked: script-src/.test(verdict), `CSP blocks an inline script (${verdict})`);

    // The expected errors, which Chromium logs itself: the 401 of step 0, and
    // step 9's script (named by its hash).
    const injected = 'sha256-' + require('crypto').createHash('sha256').update('window.sluiceInlineRan = true')
      .digest('base64');
    const unexpected = problems.filter((p) => !/status of 401 \(Unauthorized\)/.test(p) && !p.includes(injected));
    check(problems.length > unexpected.length, 'the 401 of step 0 was seen in the console');
    check(unexpected.length === 0, 'no other console errors or CSP violations' +
      (unexpected.length ? ': ' + unexpected.join('; ') : ''));
  } finally {
    await browser.close();
  }
  console.log(`console e2e passed in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
}

main().catch((e) => {
  console.error('FAIL ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
