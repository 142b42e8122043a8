// A searchable list's results, shared by the records and people pages: the section (heading with a live count,
// error line, scrollable table, pager), and keyset pages. The server answers each page with the cursor of the
// next (`next`), so 第一页 / 下一页 keep the cursors seen instead of counting offsets. Each page says how to
// ask for a page and how to draw a row; the count ("共 N 条", "10,000+" when the server stopped counting) and
// the pager are drawn here.
import { problemText } from "./api.js";
import { esc, fmtTotal } from "./format.js";
import { t } from "./i18n.js";

export class PagedList {
  /**
   * @param {HTMLElement} section the empty `<section class="results" data-title="…">` of the page
   * @param {{pageSize: number, tableClass?: string, fetch: (cursor: string|null, minPosition: number) => Promise<any>,
   *          draw: () => void, busy?: (on: boolean) => void}} how
   */
  constructor(section, { pageSize, tableClass = "", fetch, draw, busy = () => {} }) {
    const title = section.dataset.title;
    section.setAttribute("aria-labelledby", "results-title");
    section.innerHTML = `
      <div class="results-head">
        <h2 id="results-title" data-i18n="${esc(title)}">${esc(t(title))}</h2>
        <p id="results-count" class="results-count" role="status" aria-live="polite"></p>
      </div>
      <div id="results-error" class="form-error" role="alert" hidden></div>
      <div class="table-wrap" tabindex="0" role="region" data-i18n-aria="${esc(title)}" aria-label="${esc(t(title))}">
        <table id="results" class="results-table ${esc(tableClass)}">
          <thead id="results-head"></thead>
          <tbody id="results-body"></tbody>
        </table>
      </div>
      <nav class="pager" data-i18n-aria="records.pager" aria-label="${esc(t("records.pager"))}">
        <button id="page-first" class="btn" type="button" data-i18n="records.first" disabled>${esc(t("records.first"))}</button>
        <span id="page-info" class="page-info"></span>
        <button id="page-next" class="btn" type="button" data-i18n="records.next" disabled>${esc(t("records.next"))}</button>
      </nav>`;
    this.el = (sel) => section.querySelector(sel);
    Object.assign(this, { pageSize, fetch, draw, busy, cursors: [null], page: 0, last: null });
    this.el("#page-next").addEventListener("click", () => this.show(this.page + 1));
    this.el("#page-first").addEventListener("click", () => this.show(0));
  }

  /** A new search: forget the cursors of the old one. */
  restart() {
    this.cursors = [null];
    this.page = 0;
  }

  /** Fetch and draw page `page` (0: the first); `minPosition` reads the caller's own write. */
  async show(page = 0, minPosition = 0) {
    this.error(null);
    this.busy(true);
    try {
      const body = await this.fetch(this.cursors[page], minPosition);
      this.page = page;
      this.cursors[page + 1] = body.next || null;
      this.cursors.length = page + 2;
      this.last = body;
      this.draw();
    } catch (ex) {
      this.error(ex);
    } finally {
      this.busy(false);
    }
  }

  error(ex) {
    const el = this.el("#results-error");
    el.hidden = !ex;
    if (ex) el.textContent = problemText(ex);
  }

  /** Draw the last page: the header cells' HTML, one row's HTML per item, how many columns the empty line spans. */
  render(headCells, row, columns) {
    this.el("#results-head").innerHTML = `<tr>${headCells}</tr>`;
    const body = this.last;
    if (!body) return;
    this.el("#results-body").innerHTML = body.items.length ? body.items.map(row).join("")
      : `<tr><td colspan="${columns}" class="empty">${esc(t("records.none"))}</td></tr>`;
    const from = this.page * this.pageSize + (body.items.length ? 1 : 0);
    this.el("#results-count").textContent = t("records.count", { total: fmtTotal(body) });
    this.el("#page-info").textContent = t("records.range", { from, to: this.page * this.pageSize + body.items.length, total: fmtTotal(body) });
    this.el("#page-first").disabled = this.page === 0;
    this.el("#page-next").disabled = !this.cursors[this.page + 1];
  }

  clear() {
    this.last = null;
    this.el("#results-body").innerHTML = "";
  }
}
