"""The built book, opened in a real browser with the network off.

Headless Chromium (Debian's `chromium` at /usr/bin/chromium, installed by `make browser`, which
`make test` runs first) is driven with Playwright for Python. The HTML in `_build/html` is served
by a local `http.server` on 127.0.0.1 (search needs http, not file://), and every request to any
other host is aborted and recorded. For every page of `_toc.yml` (the intro, each chapter, the
glossary; a new chapter is covered as soon as it is in the table of contents) we check that

- the page asks for nothing off-machine and logs no console error or uncaught exception;
- MathJax has typeset every piece of math (an `mjx-container` in each `.math` element, no TeX
  error), and the visible text shows no raw `$$` or `\\begin{`;
- every image loaded (naturalWidth > 0) and has alt text;
- no code block of a chapter scrolls horizontally in the 1280-pixel-wide window;
- every internal link answers HTTP 200, and its #fragment is an id of the target page;
- each chapter links its exercise notebook under `_downloads/`, and clicking the link downloads a
  valid notebook;

and, for readers who use a keyboard, a screen reader or a phone (issue 26; tests/book_audit.py
does the looking, during the same visit):

- no formula is a Tab stop, and each keeps its assistive MathML;
- a chapter's exercise notebook is linked in its first screen, fewer than 30 Tab stops from the top;
- Tab from the top through the whole page: every stop shows a focus ring (outline or box-shadow);
- axe-core (WCAG 2.1 A and AA) finds nothing serious or critical, in the light theme and the dark;
- at a phone's width (390 px) no display equation is clipped, and a code block either fits or
  shows that it scrolls (and takes the keyboard);
- a chapter weighs under book_audit.PAGE_BUDGET on a first visit, served as a static host serves
  it (gzip); MathJax loads only where there is math; one viewport tag;

and that the search page finds "softmax". A full-page screenshot of each page is saved as
`_build/screenshots/<page>.png` (e.g. `_build/screenshots/chapters/01-logits.png`): CI keeps
that directory as the test artifacts.

If Chromium is missing the tests fail (they never skip): run `make browser`; axe-core comes from
`make axe` (`make test` runs both first).

For development only, two environment variables point the tests at another build and skip the
`book` fixture that builds this checkout:
    BOOK_HTML=/tmp/book-br/_build/html   an already built book's HTML directory
    BOOK_TOC=/tmp/toc-br.yml             the table of contents it was built with (default: _toc.yml)
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import nbformat
import pytest
import yaml

from autograder import course
from tests import book_audit as a11y
from tests import lab

pytestmark = pytest.mark.browser

TOC = Path(os.environ.get("BOOK_TOC") or course.REPO / "_toc.yml")
SEARCH_TERM = "softmax"
# Every http(s) URL that is not on 127.0.0.1 (matched inside Playwright, so that the local
# requests are not slowed down by a round trip to Python).
OFF_MACHINE = re.compile(r"^(?!http://127\.0\.0\.1[:/])[a-z][a-z0-9+.-]*://", re.IGNORECASE)
TIMEOUT_MS = 30_000
MATHJAX_TIMEOUT_MS = 20_000


def _toc_pages(toc: Path) -> list[str]:
    """Every page of a jb-book table of contents, in reading order (root first)."""
    data = yaml.safe_load(toc.read_text())
    pages = [data["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(str(node["file"]))
            for key in ("parts", "chapters", "sections"):
                for child in node.get(key) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk({k: v for k, v in data.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb|rst)$", "", p) for p in pages]


PAGES = _toc_pages(TOC)
# A chapter is a numbered file, chapters/NN-<assignment>; its exercise is <assignment>.ipynb.
CHAPTERS = [p for p in PAGES if re.fullmatch(r"chapters/\d+-[\w-]+", p)]


def _exercise(chapter: str) -> str:
    return re.sub(r"^\d+-", "", chapter.split("/")[-1]) + ".ipynb"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def html_root(request) -> Path:
    """The built book: BOOK_HTML if set (development), else the `book` fixture builds it."""
    if os.environ.get("BOOK_HTML"):
        root = Path(os.environ["BOOK_HTML"]).resolve()
        assert (root / "index.html").exists(), f"BOOK_HTML={root} holds no built book"
        return root
    return request.getfixturevalue("book")


@pytest.fixture(scope="session")
def server(html_root):
    """The book over http://127.0.0.1:<free port>/, served from a background thread as a static
    host serves it (text gzip-compressed for a browser; tests/book_audit.py)."""
    host = type("Host", (a11y.StaticHost,), {"compressed": {}})
    handler = functools.partial(host, directory=str(html_root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def offsite():
    """(page, url) of every request that tried to leave 127.0.0.1."""
    return []


@pytest.fixture(scope="session")
def new_context(chromium, offsite):
    """A fresh browser profile (a first-time reader: empty cache and storage) with the network
    off: every request to a host other than 127.0.0.1 is aborted and recorded in `offsite`."""
    contexts = []

    def record(request):
        offsite.append((request.frame.page.url if request.frame else "?", request.url))

    def make():
        ctx = lab.offline_context(chromium, OFF_MACHINE, record, accept_downloads=True,
                                  viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def screenshots(html_root) -> Path:
    out = html_root.parent / "screenshots"
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # workers share the directory
        shutil.rmtree(out, ignore_errors=True)  # no stale pictures of pages that are gone
    out.mkdir(parents=True, exist_ok=True)
    return out


# What the page looks like once MathJax is done; gathered in one pass so each page loads once.
SNAPSHOT_JS = r"""
() => {
  const skip = "pre, code, script, style, mjx-container, .highlight, textarea";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    const t = n.textContent;
    if (t.includes("$$") || t.includes("\\begin{")) raw.push(t.trim().slice(0, 200));
  }
  const math = [...document.querySelectorAll("span.math, div.math")];
  return {
    math: math.length,
    untypeset: math.filter(m => !m.querySelector("mjx-container"))
                   .map(m => m.textContent.trim().slice(0, 120)),
    containers: document.querySelectorAll("mjx-container").length,
    merrors: [...document.querySelectorAll("mjx-merror")]
               .map(e => (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 120)),
    // MathJax's noundefined extension writes an unknown macro in red instead of failing.
    undefined: [...document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')]
                 .map(e => e.textContent).filter(t => t.startsWith("\\")),
    raw,
    images: [...document.images].map(i => ({src: i.currentSrc || i.src, alt: i.getAttribute("alt"),
                                            complete: i.complete, width: i.naturalWidth})),
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    downloads: [...document.querySelectorAll("a[href*='_downloads/']")].map(a => a.href),
  };
}
"""

# Code blocks (cell inputs, outputs, literal blocks) that scroll sideways at the viewport's
# width, each with the first line that does not fit (measured in the block's own font).
WIDE_CODE_JS = r"""
() => {
  const ctx = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll("pre, div.highlight")]
    .filter(e => e.checkVisibility() && e.scrollWidth > e.clientWidth + 1)
    .map(e => {
      const pre = e.tagName === "PRE" ? e : (e.querySelector("pre") || e);
      const cs = getComputedStyle(pre);
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
      const lines = pre.textContent.split("\n");
      const first = lines.find(l => ctx.measureText(l).width > room)
                    || lines.reduce((a, b) => (b.length > a.length ? b : a), "");
      return {scroll: e.scrollWidth, client: e.clientWidth, line: first.slice(0, 200)};
    });
}
"""


class Visit:
    """One page, loaded once in a fresh profile, with everything the tests below look at."""

    def __init__(self, context, server, name, screenshots, axe_source):
        self.name = name
        self.url = urljoin(server, name + ".html")
        self.failure: str | None = None    # the page could not be loaded and examined
        self.mathjax: str | None = None    # MathJax did not finish
        self.status: int | None = None
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.snap: dict = {}
        self.screenshot: Path | None = None
        self.download: dict | None = None
        self.a11y: dict = {}               # what tests/book_audit.py found (issue 26)
        self.a11y_failure: str | None = None
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console: {m.text} ({m.location.get('url', '')}:{m.location.get('lineNumber', '')})"))
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("request", lambda r: urlsplit(r.url).scheme in ("http", "https")
                and urlsplit(r.url).hostname != "127.0.0.1" and self.offsite.append(r.url))
        try:
            response = page.goto(self.url, wait_until="load")
            self.status = response.status if response else None
            self._wait_for_mathjax(page)
            # Images must really have loaded, not be waiting for a scroll (loading="lazy").
            page.evaluate("""() => Promise.all([...document.images].map(i => {
                i.loading = "eager";
                return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; });
            }))""")
            self.snap = page.evaluate(SNAPSHOT_JS)
            self.snap["wide"] = page.evaluate(WIDE_CODE_JS)
            self._look("first", lambda: a11y.first_look(
                page, a11y.assignment(name) if name in CHAPTERS else None))
            shot = screenshots / f"{name}.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
            self.screenshot = shot
            self._look("tab_stops", lambda: a11y.tab_through(page))  # before any click
            if name in CHAPTERS:
                self.download = self._click_exercise(page, _exercise(name))
            page.wait_for_timeout(200)  # late console errors
            self._look("audit", lambda: a11y.audit(page, axe_source()))
        except Exception as exc:  # reported by every test of this page, not retried by each
            self.failure = f"{self.url}: {type(exc).__name__}: {exc}"
        finally:
            context.close()

    def _look(self, key, look):
        """One step of tests/book_audit.py: a failure is reported by the accessibility tests of
        the page, not by the others, and stops the steps after it."""
        if self.a11y_failure is None:
            try:
                self.a11y[key] = look()
            except Exception as exc:
                self.a11y_failure = f"{self.url}: {key}: {type(exc).__name__}: {exc}"

    def _wait_for_mathjax(self, page):
        """Wait until MathJax has typeset the page, if the page has math or loads MathJax."""
        if not page.evaluate("() => !!(window.MathJax || document.querySelector('.math'))"):
            return
        try:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=MATHJAX_TIMEOUT_MS)
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
        except Exception as exc:
            self.mathjax = f"MathJax did not finish typesetting: {type(exc).__name__}: {exc}"

    @staticmethod
    def _click_exercise(page, filename):
        link = page.locator(f"a[href*='_downloads/'][href$='/{filename}']").first
        if link.count() == 0:
            return None
        with page.expect_download() as info:
            link.click()
        download = info.value
        failure = download.failure()
        return {"url": download.url, "suggested": download.suggested_filename, "failure": failure,
                "text": None if failure else Path(download.path()).read_text(encoding="utf-8")}

    def ok(self) -> "Visit":
        assert self.failure is None, self.failure
        return self

    def audited(self) -> "Visit":
        self.ok()
        assert self.a11y_failure is None, self.a11y_failure
        return self


@pytest.fixture(scope="session")
def visit(new_context, server, screenshots):
    cache: dict[str, Visit] = {}

    @functools.cache
    def axe_source() -> str:  # read once; missing, it fails the accessibility tests only
        return a11y.axe_source()

    def get(name: str) -> Visit:
        if name not in cache:
            cache[name] = Visit(new_context(), server, name, screenshots, axe_source)
        return cache[name]

    return get


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@pytest.fixture(scope="session")
def fetch():
    """GET a local URL once per session: (status, body)."""
    cache: dict[str, tuple[int, bytes]] = {}

    def get(url: str) -> tuple[int, bytes]:
        if url not in cache:
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    cache[url] = (resp.status, resp.read())
            except urllib.error.HTTPError as exc:
                cache[url] = (exc.code, b"")
        return cache[url]

    return get


# --------------------------------------------------------------------------- tests


def test_chromium_is_installed(chromium):
    """The session's Chromium started (the fixture fails, never skips, when it is missing)."""
    assert re.match(r"\d+\.", chromium.version), chromium.version


def test_the_network_is_off(new_context, server, offsite):
    """The guard itself: a request to another host is aborted and recorded, a local one is not."""
    context = new_context()
    page = context.new_page()
    try:
        page.goto(urljoin(server, "genindex.html"))
        probe = "http://example.com/network-probe"
        result = page.evaluate("url => fetch(url).then(() => 'reached', e => 'blocked')", probe)
        local = page.evaluate("url => fetch(url).then(r => r.status)", urljoin(server, "intro.html"))
    finally:
        context.close()
    assert result == "blocked" and local == 200, (result, local)
    assert [u for _, u in offsite] == [probe], offsite
    offsite.clear()


def test_the_table_of_contents_lists_the_pages():
    assert PAGES[0] == "intro" and "chapters/glossary" in PAGES, PAGES
    assert CHAPTERS, f"no chapters/NN-name page in {TOC}"
    assert len(set(PAGES)) == len(PAGES), "a page is listed twice in the table of contents"


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_console_errors(visit, name):
    v = visit(name).ok()
    assert v.status == 200, f"{v.url} answered {v.status}"
    assert not v.errors, f"{name}: " + "\n".join(v.errors)


@pytest.mark.parametrize("name", PAGES)
def test_page_requests_nothing_off_machine(visit, name):
    v = visit(name).ok()
    assert not v.offsite, f"{name} tried to reach the network: {v.offsite}"


@pytest.mark.parametrize("name", PAGES)
def test_math_is_typeset(visit, html_root, name):
    v = visit(name).ok()
    assert v.mathjax is None, f"{name}: {v.mathjax}"
    snap = v.snap
    problems = []
    if re.search(r'class="math[ "]', (html_root / f"{name}.html").read_text()):
        if not snap["math"] or snap["containers"] < snap["math"]:
            problems.append(f"{snap['math']} math elements but {snap['containers']} typeset")
    for label, key in [("math MathJax did not typeset", "untypeset"), ("TeX errors", "merrors"),
                       ("undefined TeX macros", "undefined"),
                       ("raw TeX in the visible text", "raw")]:
        if snap[key]:
            problems.append(f"{label}: {snap[key]}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", PAGES)
def test_every_image_loads_and_has_alt_text(visit, name):
    v = visit(name).ok()
    for img in v.snap["images"]:
        assert img["complete"] and img["width"] > 0, f"{name}: image did not load: {img['src']}"
        assert (img["alt"] or "").strip(), f"{name}: image without alt text: {img['src']}"
    if name in CHAPTERS:
        assert len(v.snap["images"]) >= 2, f"{name}: a chapter draws at least two figures"


@pytest.mark.parametrize("name", PAGES)
def test_every_internal_link_resolves(visit, fetch, server, name):
    v = visit(name).ok()
    broken, missing = [], []
    for href in sorted(set(v.snap["links"])):
        if not href.startswith(server):
            continue  # other hosts are not fetched: the network is off
        target, fragment = urldefrag(href)
        status, body = fetch(target)
        if status != 200:
            broken.append(f"{href} -> {status}")
            continue
        if not fragment:
            continue
        fragment = unquote(fragment)
        if target == v.url:
            ids = set(v.snap["ids"])
        elif target.endswith(".html"):
            parser = _Ids()
            parser.feed(body.decode("utf-8", "replace"))
            ids = parser.ids
        else:
            continue
        if fragment not in ids:
            missing.append(href)
    assert not broken, f"{name}: broken links:\n" + "\n".join(broken)
    assert not missing, f"{name}: links to anchors that do not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_code_blocks_fit_the_page(visit, chapter):
    """No code block scrolls sideways in a 1280-pixel-wide window (issue 12, item 3)."""
    v = visit(chapter).ok()
    wide = v.snap["wide"]
    assert not wide, f"{chapter}: {len(wide)} code block(s) scroll horizontally at 1280 px:\n" + \
        "\n".join(f"  {w['scroll']} px in {w['client']} px, first line that does not fit: "
                  f"{w['line']!r}" for w in wide)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_exercise_notebook_is_downloadable(visit, fetch, chapter):
    v = visit(chapter).ok()
    filename = _exercise(chapter)
    links = [h for h in v.snap["downloads"] if urlsplit(h).path.endswith("/" + filename)]
    assert links, f"{chapter}: no link to its exercise {filename} under _downloads/"
    for href in links:
        status, body = fetch(urldefrag(href)[0])
        assert status == 200, f"{href} -> {status}"
        nb = nbformat.reads(body.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
        assert nb.cells, f"{href} is an empty notebook"
        assert not re.search(r"BEGIN (SOLUTION|HIDDEN TESTS)", body.decode("utf-8")), (
            f"{href} is the instructor's version, not the student notebook")
    d = v.download
    assert d is not None, f"{chapter}: clicking the exercise link started no download"
    assert d["failure"] is None, f"{chapter}: the download failed: {d['failure']}"
    assert d["suggested"] == filename, d
    nbformat.validate(nbformat.reads(d["text"], as_version=4))


# --------------------------------------------------------------------------- readers (issue 26)


def _audited(visit, name: str) -> tuple[dict, list[dict], dict]:
    """What tests/book_audit.py found on the page: its first look, its Tab stops, the rest."""
    found = visit(name).audited().a11y
    return found["first"], found["tab_stops"], found["audit"]


@pytest.mark.parametrize("name", PAGES)
def test_formulas_are_not_tab_stops_and_keep_their_mathml(visit, name):
    """MathJax's formulas out of the Tab order (326 of chapter 1's 436 Tab stops were formulas),
    each with the MathML a screen reader reads."""
    first, stops, _ = _audited(visit, name)
    formulas = [s for s in stops if s["formula"]]
    assert not formulas, (
        f"{name}: {len(formulas)} of its {len(stops)} Tab stops are formulas; expected none "
        "(MathJax's menuOptions.settings.inTabOrder: false in _config.yml; a formula wider than "
        "its column scrolls, and the browser makes it a stop: break it across lines)")
    assert first["without_mathml"] == 0, (
        f"{name}: {first['without_mathml']} of {first['formulas']} formulas have no assistive "
        "MathML (MathJax's assistiveMml setting): a screen reader cannot read them")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercise_notebook_is_linked_near_the_top(visit, chapter):
    """The chapter's notebook is linked in its first screen, fewer than 30 Tab stops away (it was
    the 226th to 449th stop, in the chapter's last section)."""
    first, stops, _ = _audited(visit, chapter)
    notebook = a11y.assignment(chapter) + ".ipynb"
    at = next((i for i, s in enumerate(stops, 1)
               if "_downloads/" in s["href"] and s["href"].endswith("/" + notebook)), None)
    most = a11y.MAX_TAB_STOPS_TO_EXERCISE
    assert at is not None and at < most, (
        f"{chapter}: its exercise {notebook} is "
        + (f"Tab stop {at}" if at else f"not among its {len(stops)} Tab stops")
        + f"; expected fewer than {most} from the top (the header bar's link, "
        "_ext/templates/exercise-link.html)")
    top = first["exercise_top"]
    assert top is not None and 0 <= top < first["first_screen"], (
        f"{chapter}: the first visible link to {notebook} is at y={top} px; expected in the "
        f"first screen (0 to {first['first_screen']} px)")


@pytest.mark.parametrize("name", PAGES)
def test_every_tab_stop_shows_where_the_focus_is(visit, name):
    """Tab from the top through the whole page: each stop's outline or box-shadow changes when
    it takes the focus (the sidebar toggle showed nothing but a tooltip)."""
    _, stops, _ = _audited(visit, name)
    assert len(stops) > 3, f"{name}: Tab reached only {len(stops)} elements"
    unseen = [s for s in stops if s["focused"] == "none" or s["focused"] == s["unfocused"]]
    assert not unseen, (
        f"{name}: {len(unseen)} of {len(stops)} Tab stops show no focus (outline and box-shadow "
        "the same focused and not); expected a ring on each (_ext/static/a11y.css):\n"
        + "\n".join(f"  {s['element']} {s['name']!r}: focused {s['focused']}, unfocused "
                    f"{s['unfocused']}" for s in unseen[:12]))


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_nothing_serious(visit, name, mode):
    """axe-core, WCAG 2.1 A and AA, in the light theme; its colour rules in the dark."""
    _, _, found = _audited(visit, name)
    bad = [v for v in found["axe"][mode] if v["impact"] in a11y.FAILING_IMPACTS]
    assert not bad, (
        f"{name} ({mode} theme): axe-core {a11y.AXE_VERSION} finds {len(bad)} serious or "
        "critical violation(s); expected none:\n" + "\n".join(
            f"  {v['impact']} {v['id']} ({v['count']}x): {v['help']}\n    "
            + "\n    ".join(v["where"]) for v in bad))


@pytest.mark.parametrize("name", PAGES)
def test_phone_shows_every_equation_whole(visit, name):
    """At 390 px no display equation is clipped, and the page does not scroll sideways."""
    _, _, found = _audited(visit, name)
    width, clipped = a11y.PHONE["width"], found["phone"]["equations"]
    assert not clipped, (
        f"{name}: at {width} px, {len(clipped)} display equation(s) are wider than their "
        "column; break each at a relation with aligned (or gathered, multline) in the chapter's "
        "source:\n" + "\n".join(f"  needs {e['needs']} px, has {e['has']} px: {e['tex']}"
                                 for e in clipped))
    assert not found["phone"]["page_scrolls"], f"{name}: at {width} px the page scrolls sideways"


@pytest.mark.parametrize("name", PAGES)
def test_phone_code_blocks_fit_or_show_they_scroll(visit, name):
    """At 390 px a code block that scrolls sideways shows it (a shadow on the side that has
    more) and the keyboard can scroll it (it takes the focus)."""
    _, _, found = _audited(visit, name)
    scrollers = found["phone"]["scrollers"]
    hidden = [s for s in scrollers if not (s["cue"] and s["keyboard"])]
    assert not hidden, (
        f"{name}: at {a11y.PHONE['width']} px, {len(hidden)} of {len(scrollers)} code blocks "
        "scroll sideways with no cue or no keyboard focus; expected a shadow and tabindex=0 "
        "(_ext/static/a11y.js, a11y.css):\n" + "\n".join(
            f"  cue: {s['cue']}, keyboard: {s['keyboard']}: {s['line']!r}" for s in hidden[:8]))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_is_light(visit, chapter):
    """A chapter page, cold, under PAGE_BUDGET as a static host serves it (it was 1.3 to 1.4 MB,
    4.1 to 4.7 MB uncompressed)."""
    first, _, _ = _audited(visit, chapter)
    sent, budget = first["transferred"], a11y.PAGE_BUDGET
    assert sent < budget, (
        f"{chapter}: a first visit transfers {sent / 1e6:.2f} MB ({first['decoded'] / 1e6:.2f} "
        f"MB uncompressed); expected under {budget / 1e6:.1f} MB. The largest files:\n"
        + "\n".join(f"  {f['bytes'] / 1e3:7.0f} kB {urlsplit(f['url']).path}"
                    for f in first["files"][:6]))


@pytest.mark.parametrize("name", PAGES)
def test_mathjax_only_where_there_is_math_and_one_viewport_tag(visit, name):
    """MathJax (1.2 MB) loads only on a page with math; one viewport <meta> tag (there were 3)."""
    first, _, _ = _audited(visit, name)
    assert first["mathjax"] == first["has_math"], (
        f"{name}: MathJax {'loads' if first['mathjax'] else 'does not load'} on a page "
        f"{'with' if first['has_math'] else 'without'} math; expected it only where there is "
        "math (_ext/book_assets.py)")
    assert first["viewport_tags"] == 1, (
        f"{name}: {first['viewport_tags']} <meta name=viewport> tags; expected one")


def test_search_finds_softmax(new_context, server, fetch, offsite):
    context = new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(urljoin(server, f"search.html?q={SEARCH_TERM}"), wait_until="load")
        # Sphinx's search writes a summary when it is done, with or without results.
        summary = page.locator("#search-results .search-summary")
        summary.wait_for(state="attached")
        page.wait_for_function("() => document.querySelector('#search-results .search-summary')"
                               ".textContent.trim() !== ''")
        summary_text = summary.inner_text()
        hits = page.eval_on_selector_all("#search-results ul.search li > a",
                                         "links => links.map(a => a.href)")
    finally:
        context.close()
    assert hits, f"searching {SEARCH_TERM!r} found nothing: {summary_text!r}"
    assert all(fetch(urldefrag(h)[0])[0] == 200 for h in hits), hits
    assert not errors, errors
    assert not [u for p, u in offsite if "search.html" in p], "search tried to reach the network"


def test_screenshots_were_saved(visit, screenshots):
    for name in PAGES:
        shot = visit(name).ok().screenshot
        assert shot == screenshots / f"{name}.png" and shot.stat().st_size > 10_000, shot
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", shot


def test_no_request_left_the_machine(offsite):
    """Every request of the whole session, pages and search alike (the route aborted them all)."""
    assert not offsite, "requests to the network (page, url):\n" + "\n".join(map(str, offsite))
