// Drives the reference reader in headless Chromium against a running `newsdesk serve --demo`.
//
//   node browser-test.mjs article BASE_URL ARTIFACT_DIR   (server with the captcha on)
//   node browser-test.mjs comment BASE_URL ARTIFACT_DIR   (server with NEWSDESK_CAPTCHA=off)
//
// `comment` signs in as the admin named by NEWSDESK_ADMIN_EMAIL and NEWSDESK_ADMIN_PASSWORD to
// approve the comment it sends. CHROMIUM overrides the browser (default /usr/bin/chromium).
// Prints each step; exits non-zero at the first one that fails.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const [phase, base, artifacts] = process.argv.slice(2);
if (!['article', 'comment'].includes(phase) || !base || !artifacts) {
  console.error('usage: node browser-test.mjs article|comment BASE_URL ARTIFACT_DIR');
  process.exit(2);
}
const origin = new URL(base).origin;

/** The demo article, as the portal's page (tests/fixtures/) shows it. */
const ARTICLE = {
  title: 'Tích cực cải cách hành chính để nâng cao mức độ hài lòng của công dân',
  time: '(20:59 14/01/2020)',
  lead: 'HNP - Năm 2019, công tác cải cách hành chính tiếp tục được các cấp',
  byline: 'Hoàng Anh',
};
/** How every captcha refusal reads once the server speaks Vietnamese. */
const CAPTCHA_MESSAGE_VI = 'Mã xác nhận';
/** No code can match: the captcha alphabet has no 0. */
const WRONG_CODE = '00000';
/** Readers are in Vietnam but the browser need not be: times must not follow its zone. */
const BROWSER_TIME_ZONE = 'America/New_York';

/**
 * @param {string} name
 * @param {() => Promise<void>} check
 */
async function step(name, check) {
  process.stdout.write(`--> ${name} ... `);
  try {
    await check();
    console.log('ok');
  } catch (e) {
    console.log('FAILED');
    console.error(`    ${e instanceof Error ? e.message : e}`);
    throw new StepFailed();
  }
}
/** A failed step, already reported. */
class StepFailed extends Error {}

/**
 * @param {unknown} condition
 * @param {string} message
 * @returns {asserts condition}
 */
function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** @param {string} haystack @param {string} needle @param {string} what */
function assertIncludes(haystack, needle, what) {
  assert(haystack.includes(needle), `${what}: expected it to contain ${JSON.stringify(needle)}, got ${JSON.stringify(haystack)}`);
}

/**
 * @param {string} path
 * @param {RequestInit & { token?: string }} [init]
 */
async function apiCall(path, init = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  const res = await fetch(origin + path, { ...init, headers });
  const body = res.status === 204 ? null : await res.json();
  assert(res.ok, `${init.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // `headless: true` is Chromium's new headless mode (--headless=new).
  headless: true,
  args: ['--no-sandbox', '--lang=vi-VN'],
});

const problems = { pageErrors: [], csp: [], foreign: [], noLanguage: [] };
const page = await browser.newPage();
await page.setViewport({ width: 1100, height: 900 });
await page.emulateTimezone(BROWSER_TIME_ZONE);
await page.setRequestInterception(true);
page.on('request', (req) => {
  const url = req.url();
  if (url.startsWith('data:')) return req.continue();
  if (new URL(url).origin !== origin) {
    // Loopback only: the page must need nothing from elsewhere.
    problems.foreign.push(url);
    return req.abort();
  }
  if (new URL(url).pathname.startsWith('/api/') && req.headers()['accept-language'] !== 'vi') {
    problems.noLanguage.push(`${req.method()} ${url}`);
  }
  return req.continue();
});
page.on('pageerror', (e) => problems.pageErrors.push(e.message));
page.on('console', (msg) => {
  if (/Content[- ]Security[- ]Policy/i.test(msg.text())) problems.csp.push(msg.text());
});

/** @param {string} selector */
const text = (selector) => page.$eval(selector, (el) => (el.textContent ?? '').trim());
/** @param {string} selector */
const count = (selector) => page.$$eval(selector, (els) => els.length);
/** Waits until the element is shown (not hidden) and has text. @param {string} selector */
const shown = (selector, timeout = 10_000) =>
  page.waitForFunction(
    (s) => {
      const el = document.querySelector(s);
      return el instanceof HTMLElement && !el.hidden && el.offsetParent !== null && (el.textContent ?? '').trim() !== '';
    },
    { timeout },
    selector,
  );

async function openDemoArticle() {
  await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
  const href = await page.$$eval(
    '.article-list a',
    (links, title) => links.find((a) => a.textContent === title)?.getAttribute('href') ?? null,
    ARTICLE.title,
  );
  assert(href, `the home page lists no article titled ${ARTICLE.title}`);
  const views = page.waitForResponse(
    (res) => res.request().method() === 'POST' && res.url().endsWith('/views'),
  );
  await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0' }), page.click(`.article-list a[href="${href}"]`)]);
  return { href, views: await views };
}

async function fillComment(extra = {}) {
  const values = {
    name: 'Nguyễn Văn An',
    phone: '0912 345 678',
    title: 'Góp ý về thủ tục hành chính',
    content: 'Đề nghị công khai thêm quy trình giải quyết hồ sơ trực tuyến.\nXin cảm ơn.',
    ...extra,
  };
  for (const [name, value] of Object.entries(values)) {
    const field = await page.$(`.comment-form [name="${name}"]`);
    assert(field, `the form has no field ${name}`);
    await field.click({ clickCount: 3 });
    await field.press('Backspace');
    await field.type(value);
  }
}

async function sendComment() {
  const answer = page.waitForResponse(
    (res) => res.request().method() === 'POST' && res.url().endsWith('/comments'),
  );
  await page.click('.comment-form .submit');
  return answer;
}

async function noPageProblems() {
  assert(problems.pageErrors.length === 0, `script errors: ${problems.pageErrors.join(' | ')}`);
  assert(problems.csp.length === 0, `Content-Security-Policy violations: ${problems.csp.join(' | ')}`);
  assert(problems.foreign.length === 0, `requests beyond ${origin}: ${problems.foreign.join(' ')}`);
  assert(problems.noLanguage.length === 0, `API calls without Accept-Language: vi: ${problems.noLanguage.join(', ')}`);
}

async function articlePhase() {
  await step('the home page lists the newest articles with links to them', async () => {
    await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
    assert((await page.$eval('html', (el) => el.lang)) === 'vi', 'the page is not lang="vi"');
    const items = await count('.article-list .article-item');
    assert(items >= 5, `expected the 5 demo articles, found ${items}`);
    const hrefs = await page.$$eval('.article-list a', (links) => links.map((a) => a.getAttribute('href')));
    assert(hrefs.every((h) => h?.startsWith('/articles/')), `links: ${hrefs.join(' ')}`);
  });
  await page.screenshot({ path: join(artifacts, 'reader-home.png'), fullPage: true });
  console.log(`    screenshot ${join(artifacts, 'reader-home.png')}`);

  await step('an unknown article path says the article is not there', async () => {
    await page.goto(`${origin}/articles/khong-co-bai-nay`, { waitUntil: 'networkidle0' });
    assertIncludes(await text('#main'), 'Không tìm thấy bài viết', 'page');
  });

  let opened;
  await step('the demo article opens from the home page and counts its view', async () => {
    opened = await openDemoArticle();
    assert(new URL(page.url()).pathname === opened.href, `at ${page.url()}`);
    assert(opened.views.status() === 204, `POST views answered ${opened.views.status()}`);
  });

  await step('title as on the portal', async () => {
    assertIncludes(await text('.article-title .title-text'), ARTICLE.title, 'title');
    assertIncludes(await page.title(), ARTICLE.title, 'document title');
  });

  await step(`time in Asia/Ho_Chi_Minh ${ARTICLE.time}, with the browser in ${BROWSER_TIME_ZONE}`, async () => {
    assert((await text('.article-title .published')) === ARTICLE.time, `time reads ${await text('.article-title .published')}`);
  });

  await step('lead with its source prefix', async () => {
    assertIncludes(await text('.article .lead'), ARTICLE.lead, 'lead');
  });

  await step('body paragraphs', async () => {
    const paragraphs = await count('.article-body p');
    assert(paragraphs === 7, `expected the fixture's 7 body paragraphs, found ${paragraphs}`);
    assertIncludes(await text('.article-body p:last-child'), 'Phát huy những kết quả đạt được', 'last paragraph');
  });

  await step('byline', async () => {
    assert((await text('.article .byline')) === ARTICLE.byline, `byline reads ${await text('.article .byline')}`);
  });

  await step('"Các bài mới đăng" and "Các bài đã đăng" list and link their articles', async () => {
    for (const kind of ['newer', 'older']) {
      const section = `.related.${kind}`;
      assert(await page.$eval(section, (el) => !el.hidden), `${section} is hidden`);
      const links = await page.$$eval(`${section} a`, (as) => as.map((a) => a.getAttribute('href')));
      assert(links.length > 0, `${section} lists nothing`);
      assert(links.every((h) => h?.startsWith('/articles/')), `${section} links: ${links.join(' ')}`);
    }
    assertIncludes(await text('.related.newer h2'), 'Các bài mới đăng', 'newer heading');
    assertIncludes(await text('.related.older h2'), 'Các bài đã đăng', 'older heading');
  });

  await step('view count', async () => {
    const views = await text('.views');
    assert(/^Lượt xem: \d[\d.]*$/.test(views), `views read ${JSON.stringify(views)}`);
  });

  await step('comments section and form with its captcha picture', async () => {
    await shown('.comment-total');
    await page.waitForFunction(() => {
      const img = document.querySelector('.captcha-image');
      return img instanceof HTMLImageElement && img.complete && img.naturalWidth > 0;
    }, { timeout: 10_000 });
    assert((await page.$eval('.captcha-image', (img) => img.getAttribute('src') ?? '')).startsWith('data:image/png;base64,'), 'captcha is not a PNG data URL');
    assert(await page.$eval('.trap', (el) => el.getBoundingClientRect().right <= 0), 'the honeypot is visible');
  });

  await step('no script errors, CSP violations or requests beyond the server', noPageProblems);

  await page.screenshot({ path: join(artifacts, 'reader-article.png'), fullPage: true });
  console.log(`    screenshot ${join(artifacts, 'reader-article.png')}`);

  let firstCode = '';
  await step('"Lấy lại mã bảo mật" fetches a new code', async () => {
    firstCode = await page.$eval('.captcha-image', (img) => img.getAttribute('src') ?? '');
    const fetched = page.waitForResponse((res) => res.url().endsWith('/api/v1/captcha'));
    await page.click('.captcha-refresh');
    assert((await fetched).status() === 200, 'GET /captcha failed');
    await page.waitForFunction((old) => document.querySelector('.captcha-image')?.getAttribute('src') !== old, {}, firstCode);
    firstCode = await page.$eval('.captcha-image', (img) => img.getAttribute('src') ?? '');
  });

  let captchaError = '';
  await step('a wrong code is refused next to the captcha field', async () => {
    await fillComment({ captcha_answer: WRONG_CODE });
    const res = await sendComment();
    assert(res.status() === 422, `POST comments answered ${res.status()}`);
    const body = JSON.parse(res.request().postData() ?? '{}');
    assert(body.website === '', `the honeypot was sent as ${JSON.stringify(body.website)}`);
    assert(typeof body.captcha_token === 'string' && body.captcha_answer === WRONG_CODE, 'captcha fields not sent');
    await shown('[data-error-for="captcha_answer"]');
    const beside = await page.$eval('[data-error-for="captcha_answer"]', (el) =>
      el.closest('.field')?.querySelector('[name="captcha_answer"]') !== null);
    assert(beside, 'the error is not in the captcha field');
    captchaError = await text('[data-error-for="captcha_answer"]');
  });

  await step('after the refusal a new code is shown and the typed text is kept', async () => {
    await page.waitForFunction((old) => document.querySelector('.captcha-image')?.getAttribute('src') !== old, { timeout: 10_000 }, firstCode);
    assert((await page.$eval('[name="captcha_answer"]', (el) => el.value)) === '', 'the spent answer stays in the field');
    assert((await page.$eval('[name="content"]', (el) => el.value)).startsWith('Đề nghị'), 'the comment text was lost');
  });

  await page.screenshot({ path: join(artifacts, 'reader-captcha-error.png'), fullPage: true });
  console.log(`    screenshot ${join(artifacts, 'reader-captcha-error.png')}`);

  await step(`the refusal is in Vietnamese (contains "${CAPTCHA_MESSAGE_VI}")`, async () => {
    assertIncludes(captchaError, CAPTCHA_MESSAGE_VI, 'captcha error');
  });
}

async function commentPhase() {
  const admin = {
    email: process.env.NEWSDESK_ADMIN_EMAIL,
    password: process.env.NEWSDESK_ADMIN_PASSWORD,
  };
  assert(admin.email && admin.password, 'set NEWSDESK_ADMIN_EMAIL and NEWSDESK_ADMIN_PASSWORD');

  let opened;
  await step('the demo article opens', async () => {
    opened = await openDemoArticle();
    assertIncludes(await text('.article-title .title-text'), ARTICLE.title, 'title');
  });

  let accepted;
  await step('a comment is acknowledged as waiting for moderation', async () => {
    await fillComment();
    const res = await sendComment();
    assert(res.status() === 202, `POST comments answered ${res.status()}: ${await res.text()}`);
    accepted = (await res.json()).data;
    assert(accepted.status === 'pending', `status ${accepted.status}`);
    await shown('.form-success');
    assertIncludes(await text('.form-success'), 'chờ ban biên tập duyệt', 'acknowledgement');
    assert(await page.$eval('[data-error-for="name"]', (el) => el.hidden), 'an error is shown');
    assert((await page.$eval('[name="content"]', (el) => el.value)) === '', 'the form was not cleared');
  });

  await page.screenshot({ path: join(artifacts, 'reader-comment.png'), fullPage: true });
  console.log(`    screenshot ${join(artifacts, 'reader-comment.png')}`);

  await step('missing required fields are named next to each field', async () => {
    await page.click('.comment-form .submit');
    for (const field of ['name', 'title', 'content']) {
      await shown(`[data-error-for="${field}"]`);
    }
    assert(await page.$eval('.form-success', (el) => el.hidden), 'the old acknowledgement is still shown');
  });

  await step('once approved, the comment and the newsroom\'s reply show threaded', async () => {
    const login = await apiCall('/api/v1/auth/login', { method: 'POST', body: JSON.stringify(admin) });
    const token = login.data.access_token;
    await apiCall(`/api/v1/admin/comments/${accepted.id}`, {
      method: 'PATCH', token, body: JSON.stringify({ status: 'approved' }),
    });
    const slug = decodeURIComponent(opened.href.split('/').pop());
    const article = await apiCall(`/api/v1/articles/${encodeURIComponent(slug)}`);
    await apiCall(`/api/v1/admin/articles/${article.data.id}/comments`, {
      method: 'POST', token,
      body: JSON.stringify({ title: 'Ban biên tập trả lời', content: 'Cảm ơn bạn đã góp ý.', parent_id: accepted.id }),
    });
    const listed = await apiCall(`/api/v1/articles/${encodeURIComponent(slug)}/comments`);
    assert(listed.data.some((c) => c.id === accepted.id), 'the approved comment is not listed by the API');
    // The API lets browsers keep public answers 30 seconds; a returning reader would wait that long.
    await page.setCacheEnabled(false);
    await page.reload({ waitUntil: 'networkidle0' });
    const comment = `#comment-${accepted.id}`;
    await shown(`${comment} > .comment-title`);
    assertIncludes(await text(`${comment} > .comment-meta`), 'Nguyễn Văn An', 'commenter');
    assertIncludes(await text(`${comment} > .comment-content`), 'Đề nghị công khai', 'comment text');
    assert(!(await text(comment)).includes('0912'), 'the phone number is shown');
    assertIncludes(await text(`${comment} > .replies > .comment .staff-badge`), 'Ban biên tập', 'reply badge');
    assertIncludes(await text(`${comment} > .replies > .comment .comment-content`), 'Cảm ơn bạn đã góp ý.', 'reply');
    assertIncludes(await text('.comment-total'), '(2)', 'comment total');
  });

  await step('no script errors, CSP violations or requests beyond the server', noPageProblems);

  await page.screenshot({ path: join(artifacts, 'reader-thread.png'), fullPage: true });
  console.log(`    screenshot ${join(artifacts, 'reader-thread.png')}`);
}

let exitCode = 0;
try {
  await mkdir(artifacts, { recursive: true });
  await (phase === 'article' ? articlePhase() : commentPhase());
} catch (e) {
  if (!(e instanceof StepFailed)) {
    console.error(e);
  }
  exitCode = 1;
} finally {
  if (exitCode !== 0) {
    await page.screenshot({ path: join(artifacts, `reader-${phase}-failure.png`), fullPage: true }).catch(() => {});
    console.error(`    screenshot of the failure: ${join(artifacts, `reader-${phase}-failure.png`)}`);
  }
  await browser.close();
}
if (exitCode !== 0) {
  console.error(`browser test (${phase}) failed`);
  process.exit(1);
}
console.log(`browser test (${phase}) passed`);
