// @ts-check
/**
 * The reference reader: a public-information portal's pages rebuilt from the newsdesk API
 * alone. `/` lists the newest articles; `/articles/{slug}` shows one article with its
 * neighbours, its approved comments and the comment form.
 *
 * Every type below comes from the client generated from the OpenAPI document, so a change of
 * the API that this page depends on fails the type check.
 */

/** @typedef {import('./generated/api').paths} Paths */
/** @typedef {import('./generated/api').components['schemas']} Schemas */
/** @typedef {Schemas['ArticleDetail']} ArticleDetail */
/** @typedef {Schemas['ArticleSummary']} ArticleSummary */
/** @typedef {Schemas['Neighbour']} Neighbour */
/** @typedef {Schemas['Byline']} Byline */
/** @typedef {Schemas['PublicComment']} PublicComment */
/** @typedef {Schemas['CommentInput']} CommentInput */
/** @typedef {Schemas['Problem']} Problem */
/** @typedef {Paths['/api/v1/articles']['get']['responses'][200]['content']['application/json']} ArticleList */
/** @typedef {Paths['/api/v1/articles/{slug}']['get']['responses'][200]['content']['application/json']} ArticleAnswer */
/** @typedef {Paths['/api/v1/articles/{slug}/comments']['get']['responses'][200]['content']['application/json']} CommentList */
/** @typedef {Paths['/api/v1/articles/{slug}/comments']['post']['requestBody']['content']['application/json']} CommentBody */
/** @typedef {Paths['/api/v1/articles/{slug}/comments']['post']['responses'][202]['content']['application/json']} CommentAccepted */
/** @typedef {Paths['/api/v1/captcha']['get']['responses'][200]['content']['application/json']} CaptchaAnswer */

const API = '/api/v1';
const HOME_PAGE_SIZE = 20;
const COMMENT_PAGE_SIZE = 20;

/** The portal's readers live in Vietnam: times are shown in its zone, whatever the browser's. */
const STAMP = new Intl.DateTimeFormat('vi-VN', {
  timeZone: 'Asia/Ho_Chi_Minh',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
});

/** A failed API call, with the problem document the server sent when it sent one. */
class ApiError extends Error {
  /**
   * @param {number} status
   * @param {Problem | null} problem
   */
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/**
 * Calls the API in Vietnamese; answers other than 2xx become an {@link ApiError}.
 * @param {string} path below `/api/v1`
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json, application/problem+json');
  headers.set('Accept-Language', 'vi');
  const res = await fetch(API + path, { ...init, headers });
  if (!res.ok) {
    throw new ApiError(res.status, await problemOf(res));
  }
  return res;
}

/**
 * @param {Response} res
 * @returns {Promise<Problem | null>}
 */
async function problemOf(res) {
  if (!(res.headers.get('Content-Type') ?? '').includes('json')) {
    return null;
  }
  try {
    return /** @type {Problem} */ (await res.json());
  } catch {
    return null;
  }
}

/**
 * `20:59 14/01/2020`, as the portal writes it. Assembled from parts because locales disagree on
 * the order and separators of a date with a time.
 * @param {string} iso
 */
function portalTime(iso) {
  /** @type {Record<string, string>} */
  const part = {};
  for (const { type, value } of STAMP.formatToParts(new Date(iso))) {
    part[type] = value;
  }
  return `${part.hour}:${part.minute} ${part.day}/${part.month}/${part.year}`;
}

/**
 * @param {string} iso
 * @returns {HTMLTimeElement}
 */
function timeElement(iso, text = `(${portalTime(iso)})`) {
  const time = document.createElement('time');
  time.dateTime = iso;
  time.textContent = text;
  return time;
}

/**
 * The element matching `selector` under `root`, of the expected kind; the templates in
 * index.html and this script go together, so a mismatch is a bug worth stopping on.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} kind
 * @returns {T}
 */
function find(root, selector, kind) {
  const found = root.querySelector(selector);
  if (!(found instanceof kind)) {
    throw new Error(`index.html lacks ${selector}`);
  }
  return found;
}

/**
 * A copy of one of the page's `<template>`s.
 * @param {string} id
 * @returns {DocumentFragment}
 */
function fromTemplate(id) {
  const template = find(document, `template#${id}`, HTMLTemplateElement);
  return /** @type {DocumentFragment} */ (template.content.cloneNode(true));
}

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/** @param {string} slug */
function articleHref(slug) {
  return `/articles/${encodeURIComponent(slug)}`;
}

/**
 * The lead with its source first, as the portal prints it: `HNP - Năm 2019, …`.
 * @param {HTMLElement} lead
 * @param {{ source?: string | null, summary?: string | null }} article
 */
function fillLead(lead, article) {
  const source = find(lead, '.source', HTMLElement);
  if (article.source) {
    source.textContent = `${article.source} - `;
    source.hidden = false;
  }
  find(lead, '.summary', HTMLElement).textContent = article.summary ?? '';
  lead.hidden = !article.summary;
}

/** @param {Node} content */
function show(content) {
  const main = find(document, '#main', HTMLElement);
  main.replaceChildren(content);
}

/**
 * @param {string} message
 * @param {boolean} [homeLink]
 */
function showMessage(message, homeLink = true) {
  const box = element('div', 'notice');
  box.append(element('p', 'status', message));
  if (homeLink) {
    const back = /** @type {HTMLAnchorElement} */ (element('a', undefined, 'Về trang chủ'));
    back.href = '/';
    box.append(back);
  }
  show(box);
}

/** @param {unknown} error */
function describe(error) {
  if (error instanceof ApiError) {
    return error.problem?.detail ?? `Máy chủ trả lời lỗi ${error.status}.`;
  }
  return 'Không kết nối được máy chủ. Vui lòng thử lại sau.';
}

// ---------------------------------------------------------------------------------------------
// Home page

async function renderHome() {
  const list = /** @type {ArticleList} */ (
    await (await api(`/articles?per_page=${HOME_PAGE_SIZE}`)).json()
  );
  const view = fromTemplate('home-view');
  const items = find(view, '.article-list', HTMLOListElement);
  for (const article of list.data) {
    items.append(homeItem(article));
  }
  find(view, '.empty', HTMLElement).hidden = list.data.length > 0;
  document.title = 'Tin mới nhất – Trang tin điện tử';
  show(view);
}

/** @param {ArticleSummary} article */
function homeItem(article) {
  const item = element('li', 'article-item');
  const heading = element('h2', 'item-title');
  const link = /** @type {HTMLAnchorElement} */ (element('a', undefined, article.title));
  link.href = articleHref(article.slug);
  heading.append(link, ' ', timeElement(article.published_at));
  const lead = element('p', 'lead');
  lead.append(element('strong', 'source'), element('span', 'summary'));
  fillLead(lead, article);
  item.append(heading, lead);
  return item;
}

// ---------------------------------------------------------------------------------------------
// Article page

/** @param {string} slug */
async function renderArticle(slug) {
  const path = `/articles/${encodeURIComponent(slug)}`;
  const article = /** @type {ArticleAnswer} */ (await (await api(path)).json()).data;
  const view = fromTemplate('article-view');

  document.title = `${article.meta_title ?? article.title} – Trang tin điện tử`;
  if (article.category) {
    const category = find(view, '.category', HTMLElement);
    category.textContent = article.category.name;
    category.hidden = false;
  }
  find(view, '.title-text', HTMLElement).textContent = article.title;
  const published = find(view, '.published', HTMLTimeElement);
  published.dateTime = article.published_at;
  published.textContent = `(${portalTime(article.published_at)})`;
  fillLead(find(view, '.lead', HTMLElement), article);
  // The server sanitises `body_html`; it is the one place where HTML from the API is trusted.
  find(view, '.article-body', HTMLElement).innerHTML = article.body_html;
  find(view, '.byline', HTMLElement).textContent = article.authors.map((a) => a.name).join(', ');
  fillNeighbours(find(view, '.related.newer', HTMLElement), article.newer);
  fillNeighbours(find(view, '.related.older', HTMLElement), article.older);

  const viewCount = find(view, '.view-count', HTMLElement);
  viewCount.textContent = formatCount(article.view_count);

  const comments = find(view, '.comments', HTMLElement);
  // Approved comments with their replies; the comment list's own total counts threads only.
  find(comments, '.comment-total', HTMLElement).textContent = `(${formatCount(article.comment_count)})`;
  const formSection = find(view, '.comment-form-section', HTMLElement);
  show(view);

  countView(path).then((counted) => {
    // The server writes views in batches and caches the article briefly, so its count does
    // not include this visit yet; the reader expects to see it counted.
    if (counted) viewCount.textContent = formatCount(article.view_count + 1);
  });
  loadComments(comments, path);
  if (article.comments_enabled) {
    setUpForm(formSection, path);
  } else {
    find(formSection, '.comments-closed', HTMLElement).hidden = false;
    find(formSection, '.comment-form', HTMLFormElement).hidden = true;
  }
}

/** @param {number} n */
function formatCount(n) {
  return n.toLocaleString('vi-VN');
}

/**
 * @param {string} articlePath
 * @returns {Promise<boolean>} whether the view was counted
 */
async function countView(articlePath) {
  try {
    await api(`${articlePath}/views`, { method: 'POST' });
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {HTMLElement} section
 * @param {Neighbour[]} neighbours
 */
function fillNeighbours(section, neighbours) {
  const list = find(section, 'ul', HTMLUListElement);
  for (const n of neighbours) {
    const item = document.createElement('li');
    const link = /** @type {HTMLAnchorElement} */ (element('a', undefined, n.title));
    link.href = articleHref(n.slug);
    item.append(link, ' ', timeElement(n.published_at));
    list.append(item);
  }
  section.hidden = neighbours.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Comments

/**
 * Approved comments, threaded, a page of top-level comments at a time.
 * @param {HTMLElement} section
 * @param {string} articlePath
 */
function loadComments(section, articlePath) {
  const list = find(section, '.comment-list', HTMLOListElement);
  const more = find(section, '.more-comments', HTMLButtonElement);
  const error = find(section, '.comments-error', HTMLElement);
  let page = 0;

  const next = async () => {
    more.disabled = true;
    error.hidden = true;
    try {
      const query = `?page=${page + 1}&per_page=${COMMENT_PAGE_SIZE}`;
      const answer = /** @type {CommentList} */ (
        await (await api(`${articlePath}/comments${query}`)).json()
      );
      page = answer.meta.page;
      for (const comment of answer.data) {
        list.append(commentItem(comment));
      }
      find(section, '.comments-empty', HTMLElement).hidden = answer.meta.total > 0;
      more.hidden = page >= answer.meta.total_pages;
    } catch (e) {
      error.textContent = `Không tải được ý kiến bạn đọc. ${describe(e)}`;
      error.hidden = false;
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener('click', next);
  next();
}

/**
 * One comment and, nested under it, its replies. Comments are plain text and stay text.
 * @param {PublicComment} comment
 * @returns {HTMLLIElement}
 */
function commentItem(comment) {
  const item = /** @type {HTMLLIElement} */ (element('li', 'comment'));
  item.id = `comment-${comment.id}`;
  const header = element('p', 'comment-meta');
  header.append(element('strong', 'comment-name', comment.name));
  if (comment.is_staff) {
    header.append(' ', element('span', 'staff-badge', 'Ban biên tập'));
  }
  header.append(' ', timeElement(comment.created_at, portalTime(comment.created_at)));
  item.append(
    header,
    element('p', 'comment-title', comment.title),
    element('p', 'comment-content', comment.content),
  );
  if (comment.replies.length > 0) {
    const replies = element('ol', 'replies');
    for (const reply of comment.replies) {
      replies.append(commentItem(reply));
    }
    item.append(replies);
  }
  return item;
}

/**
 * The comment form: captcha, submission, and the server's verdict shown next to each field.
 * @param {HTMLElement} section
 * @param {string} articlePath
 */
function setUpForm(section, articlePath) {
  const form = find(section, '.comment-form', HTMLFormElement);
  const submit = find(form, '.submit', HTMLButtonElement);
  const formError = find(form, '.form-error', HTMLElement);
  const success = find(form, '.form-success', HTMLElement);
  const captcha = captchaControl(form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    success.hidden = true;
    submit.disabled = true;
    try {
      const res = await api(`${articlePath}/comments`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(commentBody(form, captcha.token)),
      });
      const accepted = /** @type {CommentAccepted} */ (await res.json()).data;
      form.reset();
      success.textContent = accepted.status === 'pending'
        ? 'Cảm ơn bạn đã gửi ý kiến. Bình luận của bạn đang chờ ban biên tập duyệt và sẽ được đăng sau khi được duyệt.'
        : 'Cảm ơn bạn đã gửi ý kiến.';
      success.hidden = false;
      // The code just admitted this comment and cannot admit another.
      captcha.renew();
    } catch (e) {
      const captchaRefused = showProblem(form, formError, e);
      if (captchaRefused) captcha.renew();
    } finally {
      submit.disabled = false;
    }
  });
  captcha.renew();
}

/**
 * @param {HTMLFormElement} form
 * @param {string | null} captchaToken
 * @returns {CommentBody}
 */
function commentBody(form, captchaToken) {
  const data = new FormData(form);
  /** @param {string} name */
  const value = (name) => {
    const v = data.get(name);
    return typeof v === 'string' ? v : '';
  };
  /** @type {CommentInput} */
  const body = {
    name: value('name'),
    title: value('title'),
    content: value('content'),
    // Sent as the page holds it: empty for people, so a filled one marks a robot.
    website: value('website'),
  };
  if (value('phone').trim()) body.phone = value('phone');
  if (captchaToken) {
    body.captcha_token = captchaToken;
    body.captcha_answer = value('captcha_answer');
  }
  return body;
}

/**
 * The captcha picture with its token, renewed on demand, on the button and when it expires.
 * @param {HTMLFormElement} form
 */
function captchaControl(form) {
  const image = find(form, '.captcha-image', HTMLImageElement);
  const answer = find(form, '#comment-captcha', HTMLInputElement);
  const refresh = find(form, '.captcha-refresh', HTMLButtonElement);
  const error = find(form, '[data-error-for="captcha_answer"]', HTMLElement);
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let expiry;

  const control = {
    /** @type {string | null} */
    token: null,
    async renew() {
      clearTimeout(expiry);
      refresh.disabled = true;
      answer.value = '';
      try {
        const challenge = /** @type {CaptchaAnswer} */ (await (await api('/captcha')).json()).data;
        control.token = challenge.captcha_token;
        image.src = challenge.image;
        expiry = setTimeout(() => control.renew(), challenge.expires_in * 1000);
      } catch (e) {
        control.token = null;
        image.removeAttribute('src');
        setFieldError(error, `Không lấy được mã xác nhận. ${describe(e)}`);
      } finally {
        refresh.disabled = false;
      }
    },
  };
  refresh.addEventListener('click', () => {
    clearFieldError(error);
    control.renew();
    answer.focus();
  });
  return control;
}

/** @param {HTMLFormElement} form */
function clearErrors(form) {
  for (const el of form.querySelectorAll('[data-error-for]')) {
    if (el instanceof HTMLElement) clearFieldError(el);
  }
  const formError = find(form, '.form-error', HTMLElement);
  formError.hidden = true;
  formError.textContent = '';
}

/**
 * @param {HTMLElement} el
 * @param {string} message
 */
function setFieldError(el, message) {
  el.textContent = el.textContent ? `${el.textContent} ${message}` : message;
  el.hidden = false;
  el.closest('.field')?.querySelector('input, textarea')?.setAttribute('aria-invalid', 'true');
}

/** @param {HTMLElement} el */
function clearFieldError(el) {
  el.textContent = '';
  el.hidden = true;
  el.closest('.field')?.querySelector('input, textarea')?.removeAttribute('aria-invalid');
}

/**
 * Shows why a submission failed: each invalid field's message beside it, anything else above
 * the button.
 * @param {HTMLFormElement} form
 * @param {HTMLElement} formError
 * @param {unknown} error
 * @returns {boolean} whether the captcha was refused (its code is spent)
 */
function showProblem(form, formError, error) {
  /** @type {string[]} */
  const general = [];
  let captchaRefused = false;
  const fieldErrors = error instanceof ApiError && error.status === 422 ? error.problem?.errors ?? [] : [];
  for (const { field, message } of fieldErrors) {
    const isCaptcha = field === 'captcha_answer' || field === 'captcha_token';
    captchaRefused ||= isCaptcha;
    const slot = form.querySelector(`[data-error-for="${isCaptcha ? 'captcha_answer' : field}"]`);
    if (slot instanceof HTMLElement) {
      setFieldError(slot, message);
    } else {
      general.push(message);
    }
  }
  if (fieldErrors.length === 0) {
    general.push(describe(error));
  }
  if (general.length > 0) {
    formError.textContent = general.join(' ');
    formError.hidden = false;
  }
  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  if (firstInvalid instanceof HTMLElement) firstInvalid.focus();
  return captchaRefused;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const match = /^\/articles\/([^/]+)$/.exec(location.pathname);
  try {
    if (match) {
      await renderArticle(decodeURIComponent(match[1]));
    } else {
      await renderHome();
    }
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      document.title = 'Không tìm thấy bài viết – Trang tin điện tử';
      showMessage('Không tìm thấy bài viết này. Có thể bài đã được gỡ hoặc đường dẫn không đúng.');
    } else {
      showMessage(`Không tải được nội dung. ${describe(e)}`, match !== null);
    }
  }
}

main();
