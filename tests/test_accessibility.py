"""The book for readers who use a keyboard, a screen reader or a phone, and what a page weighs
(issue 26), in the session's headless Chromium (conftest's `chromium`).

One visit per page of `_toc.yml`, in a fresh profile (a first visit: empty cache) with the network
off, looks at the page in every mode once, in this order, and the tests below read what it found:

1. weight: the bytes the page transferred until it was ready (MathJax done, fonts loaded), served
   the way a static host serves a book (text compressed with gzip, fonts and images as they are);
2. keyboard (1280 x 900): Tab from the top through the whole page, recording for every stop its
   outline and box-shadow focused and unfocused (transitions off, so that each is its final look);
3. axe-core (from npm, `make axe`; WCAG 2.0 and 2.1, levels A and AA) in the light theme;
4. the dark theme (the reader's system asks for dark, the theme follows): axe's colour rules
   again, the only ones whose answer depends on the colours;
5. a phone's width (390 px): display equations and code blocks.

The rules: formulas are not Tab stops and keep their assistive MathML; a chapter's exercise
notebook is linked in its first screen and fewer than 30 Tab stops from the top; every Tab stop
shows a focus ring; axe finds nothing serious or critical in either theme; at 390 px no display
equation is clipped and a code block either fits or shows (and lets the keyboard) scroll it; a
chapter page is under PAGE_BUDGET; MathJax only loads where there is math; one viewport tag.

Like tests/test_browser.py, BOOK_HTML (and BOOK_TOC) point these tests at another built book
(development: the book before a fix) instead of building this checkout.
"""
from __future__ import annotations

import functools
import gzip
import mimetypes
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from autograder import course
from tests import lab
from tests.test_browser import CHAPTERS, MATHJAX_TIMEOUT_MS, OFF_MACHINE, PAGES, TIMEOUT_MS

pytestmark = pytest.mark.browser

AXE_VERSION = re.search(r"^AXE_VERSION := (\S+)$", (course.REPO / "Makefile").read_text(),
                        re.M).group(1)
AXE = course.REPO / ".cache" / "npm" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_COLOUR_RULES = ["color-contrast", "link-in-text-block"]
FAILING_IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MAX_TAB_STOPS_TO_EXERCISE = 30
# A chapter page, cold, as a static host serves it (gzip for text). The issue asked for under
# 1.5 MB; served that way the pages weighed 1.28 to 1.39 MB before it (4.1 to 4.7 MB
# uncompressed, 1.49 MB of it fontawesome.js), so 1.5 MB would not catch that script coming
# back: the budget is 1 MB (README: what a page weighs).
PAGE_BUDGET = 1_000_000
# What a static host compresses (GitHub Pages, Netlify, nginx with the usual gzip_types).
COMPRESSED = {".html", ".css", ".js", ".svg", ".json", ".txt", ".xml", ".map", ".ipynb"}


def _assignment(chapter: str) -> str:
    return re.sub(r"^\d+-", "", chapter.split("/")[-1])


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def book_html(request) -> Path:
    """The built book: BOOK_HTML if set (development), else the `book` fixture builds it."""
    if os.environ.get("BOOK_HTML"):
        root = Path(os.environ["BOOK_HTML"]).resolve()
        assert (root / "index.html").exists(), f"BOOK_HTML={root} holds no built book"
        return root
    return request.getfixturevalue("book")


class _StaticHost(SimpleHTTPRequestHandler):
    """http.server, plus what a static host does: text goes out gzip-compressed to a browser
    that accepts it (Content-Encoding: gzip), each file compressed once."""
    compressed: dict[Path, bytes] = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = Path(self.translate_path(self.path))
        if (path.suffix not in COMPRESSED or not path.is_file()
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().do_GET()
        body = self.compressed.get(path)
        if body is None:
            body = self.compressed[path] = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", mimetypes.guess_type(path.name)[0] or "text/plain")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="session")
def static_host(book_html):
    """The book over http://127.0.0.1:<free port>/, compressed like a static host serves it."""
    handler = type("Host", (_StaticHost,), {"compressed": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler,
                                                                     directory=str(book_html)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core {AXE_VERSION} is not at {AXE.relative_to(course.REPO)}: run "
                    "`make axe` (npm pack axe-core from the registry)", pytrace=False)
    return AXE.read_text()


# --------------------------------------------------------------------------- in the page

READY_JS = """() => Promise.resolve(window.MathJax && MathJax.startup && MathJax.startup.promise)
                  .then(() => document.fonts.ready).then(() => true)"""

# What a cold visit cost and what the page is, before anything is done to it.
FIRST_LOOK_JS = r"""
assignment => {
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  const containers = [...document.querySelectorAll("mjx-container")];
  const exercise = assignment && [...document.querySelectorAll("a[href*='_downloads/']")]
    .find(a => a.pathname.endsWith("/" + assignment + ".ipynb") && a.checkVisibility());
  const box = exercise && exercise.getBoundingClientRect();
  return {
    transferred: entries.reduce((sum, e) => sum + e.transferSize, 0),
    decoded: entries.reduce((sum, e) => sum + e.decodedBodySize, 0),
    files: entries.map(e => ({url: e.name, bytes: e.transferSize}))
                  .sort((a, b) => b.bytes - a.bytes),
    mathjax: entries.some(e => /\/mathjax\//.test(e.name)),
    has_math: !!document.querySelector(".math"),
    viewport_tags: document.querySelectorAll('meta[name="viewport"]').length,
    formulas: containers.length,
    without_mathml: containers.filter(c => !c.querySelector("mjx-assistive-mml math")).length,
    exercise_top: box ? Math.round(box.top) : null,
    first_screen: innerHeight,
  };
}
"""

# Records every Tab stop: its focus ring focused and unfocused (outline and box-shadow).
TAB_RECORDER_JS = r"""
() => {
  const still = document.createElement("style");
  still.textContent = "*, *::before, *::after { transition: none !important; " +
                      "animation: none !important; scroll-behavior: auto !important; }";
  document.head.append(still);
  const ring = e => {
    const s = getComputedStyle(e);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0 &&
                    !/^(transparent|rgba\(.*,\s*0\))$/.test(s.outlineColor)
      ? `outline ${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}` : "";
    const shadow = s.boxShadow !== "none" ? `box-shadow ${s.boxShadow}` : "";
    return [outline, shadow].filter(Boolean).join(", ") || "none";
  };
  const stops = window.__tabStops = [];
  window.__ring = ring;
  document.addEventListener("focusin", event => {
    const last = stops.at(-1);
    if (last && last.el !== event.target) last.unfocused = ring(last.el);
    stops.push({el: event.target, focused: ring(event.target), unfocused: null});
  }, true);
}
"""

TAB_STATE_JS = """() => {
  const s = window.__tabStops;
  return s.length > 1 && s.slice(1).some(x => x.el === s[0].el);
}"""

TAB_STOPS_JS = r"""
() => {
  const s = window.__tabStops;
  const end = s.findIndex((x, i) => i > 0 && x.el === s[0].el);
  const cycle = end > 0 ? s.slice(0, end) : s;
  if (cycle.length && cycle.at(-1).unfocused === null && document.activeElement !== cycle.at(-1).el)
    cycle.at(-1).unfocused = window.__ring(cycle.at(-1).el);
  return cycle.map(x => ({
    element: x.el.tagName.toLowerCase() + (x.el.id ? "#" + x.el.id : "") +
             (x.el.className && typeof x.el.className === "string"
              ? "." + x.el.className.trim().split(/\s+/).join(".") : ""),
    name: (x.el.getAttribute("aria-label") || x.el.title || x.el.textContent || "")
          .trim().replace(/\s+/g, " ").slice(0, 60),
    href: x.el.getAttribute("href") || "",
    formula: !!x.el.closest("mjx-container"),
    focused: x.focused, unfocused: x.unfocused,
  }));
}
"""

# axe.run in the page, started without waiting (AXE_START_JS), its findings read later: it runs
# in the page's next task (much of axe.run is synchronous), so that the call returns at once.
AXE_START_JS = """([tags, rules]) => {
  window.__axe = new Promise(go => setTimeout(go, 0)).then(() => axe.run(document, {
    runOnly: rules ? {type: "rule", values: rules} : {type: "tag", values: tags},
    resultTypes: ["violations"], preload: false, elementRef: false, ancestry: false,
    xpath: false,
  }).then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    where: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + n.html.slice(0, 160)),
  }))));
}"""
AXE_RESULT_JS = "() => window.__axe"

SCROLLERS = "pre, div.highlight, div.output, div.cell_output"
SETTLE_MS = 3_000
SETTLED_JS = """() => [...document.querySelectorAll("%s")]
  .filter(e => e.checkVisibility() && e.scrollWidth > e.clientWidth + 1 &&
               /auto|scroll/.test(getComputedStyle(e).overflowX))
  .every(e => e.tabIndex >= 0)""" % SCROLLERS

# At a phone's width: display equations that do not fit, code blocks that scroll sideways.
PHONE_JS = r"""
scrollers_selector => {
  const wide = e => e.scrollWidth > e.clientWidth + 1;
  const tex = box => {
    try { return MathJax.startup.document.getMathItemsWithin(box)[0].math.trim(); }
    catch (e) { return box.textContent.trim(); }
  };
  const width = document.documentElement.clientWidth;
  const equations = [...document.querySelectorAll('mjx-container[display="true"]')]
    .filter(m => m.checkVisibility())
    .map(m => {
      const box = m.closest("div.math") || m.parentElement;
      const math = m.querySelector("mjx-math") || m;
      return {tex: tex(box).slice(0, 160), needs: Math.ceil(math.getBoundingClientRect().width),
              has: Math.floor(Math.min(m.clientWidth, box.clientWidth)),
              clipped: wide(m) || wide(box) || m.getBoundingClientRect().right > width + 1};
    }).filter(e => e.clipped);
  const scrollers = [...document.querySelectorAll(scrollers_selector)]
    .filter(e => e.checkVisibility() && wide(e) && /auto|scroll/.test(getComputedStyle(e).overflowX))
    .map(e => {
      const s = getComputedStyle(e);
      return {line: e.textContent.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "")
                     .slice(0, 100),
              keyboard: e.tabIndex >= 0 || !!e.querySelector("a[href], button, [tabindex]"),
              cue: s.boxShadow !== "none" || s.maskImage !== "none"};
    });
  return {equations, scrollers, page_scrolls: document.documentElement.scrollWidth > width + 1};
}
"""


class Audit:
    """One page, visited once (see the module's docstring). Two halves, so that the session
    audits two pages at once (each in its own renderer process): the first loads the page, looks
    at it, tabs through it and starts axe; `finish` waits for axe, turns the theme dark and
    narrows the window. `failure` if the page could not be examined."""

    def __init__(self, chromium, host, name, axe_source):
        self.name, self.url = name, urljoin(host, name + ".html")
        self.failure: str | None = None
        self.offsite: list[str] = []
        self.finished = False
        self.context = lab.offline_context(chromium, OFF_MACHINE,
                                           lambda request: self.offsite.append(request.url),
                                           viewport=DESKTOP, color_scheme="light")
        self.context.set_default_timeout(TIMEOUT_MS)
        try:
            page = self.page = self.context.new_page()
            page.goto(self.url, wait_until="load")
            page.wait_for_function(READY_JS, timeout=MATHJAX_TIMEOUT_MS)
            self.first = page.evaluate(FIRST_LOOK_JS,
                                       _assignment(name) if name in CHAPTERS else None)
            self.tab_stops = self._tab_through(page)
            page.evaluate("() => document.activeElement && document.activeElement.blur()")
            page.add_script_tag(content=axe_source)
            page.evaluate(AXE_START_JS, [AXE_TAGS, None])  # runs while the next page loads
        except Exception as exc:  # reported by every test of this page, not retried by each
            self._failed(exc)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        if self.failure:
            return
        page = self.page
        try:
            self.axe = {"light": page.evaluate(AXE_RESULT_JS)}
            page.emulate_media(color_scheme="dark")
            page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
            page.evaluate(AXE_START_JS, [None, AXE_COLOUR_RULES])
            self.axe["dark"] = page.evaluate(AXE_RESULT_JS)
            page.set_viewport_size(PHONE)
            try:  # the theme makes a block that scrolls take the focus, 300 ms after a resize
                page.wait_for_function(SETTLED_JS, timeout=SETTLE_MS)
            except PlaywrightTimeout:
                pass  # what is still missing, the test of code blocks reports
            self.phone = page.evaluate(PHONE_JS, SCROLLERS)
        except Exception as exc:
            self._failed(exc)
        finally:
            self.context.close()

    def _failed(self, exc: Exception) -> None:
        self.failure = f"{self.url}: {type(exc).__name__}: {exc}"
        self.finished = True
        self.context.close()

    @staticmethod
    def _tab_through(page, most=800, batch=10):
        page.evaluate(TAB_RECORDER_JS)
        for _ in range(0, most, batch):
            for _press in range(batch):
                page.keyboard.press("Tab")
            if page.evaluate(TAB_STATE_JS):
                break
        return page.evaluate(TAB_STOPS_JS)

    def ok(self) -> "Audit":
        self.finish()
        assert self.failure is None, self.failure
        assert not self.offsite, f"{self.name} asked for the network: {self.offsite}"
        return self


@pytest.fixture(scope="session")
def audit(chromium, static_host, axe_source):
    """audit(page): the page's Audit, finished; the next page of the book is started first, so
    that its loading and Tab walk overlap this page's axe run."""
    started: dict[str, Audit] = {}

    def start(name: str) -> Audit:
        if name not in started:
            started[name] = Audit(chromium, static_host, name, axe_source)
        return started[name]

    def get(name: str) -> Audit:
        current = start(name)
        following = PAGES[PAGES.index(name) + 1:PAGES.index(name) + 2]
        for name_next in following:
            start(name_next)
        current.finish()
        return current

    yield get
    for a in started.values():
        a.finish()


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("name", PAGES)
def test_formulas_are_not_tab_stops_and_keep_their_mathml(audit, name):
    """Item 1: MathJax's formulas out of the Tab order (255 of chapter 1's 366 Tab stops were
    formulas), each with the MathML a screen reader reads."""
    a = audit(name).ok()
    formulas = [s for s in a.tab_stops if s["formula"]]
    assert not formulas, (
        f"{name}: {len(formulas)} of its {len(a.tab_stops)} Tab stops are formulas; expected "
        "none (MathJax's menuOptions.settings.inTabOrder: false in _config.yml's "
        "mathjax3_config)")
    assert a.first["without_mathml"] == 0, (
        f"{name}: {a.first['without_mathml']} of {a.first['formulas']} formulas have no "
        "assistive MathML (MathJax's assistiveMml setting): a screen reader cannot read them")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_exercise_notebook_is_linked_near_the_top(audit, chapter):
    """Item 1: the chapter's notebook is in its first screen, fewer than 30 Tab stops away."""
    a = audit(chapter).ok()
    notebook = _assignment(chapter) + ".ipynb"
    at = next((i for i, s in enumerate(a.tab_stops, 1)
               if "_downloads/" in s["href"] and s["href"].endswith("/" + notebook)), None)
    assert at is not None and at < MAX_TAB_STOPS_TO_EXERCISE, (
        f"{chapter}: its exercise {notebook} is "
        + (f"Tab stop {at}" if at else f"not among its {len(a.tab_stops)} Tab stops")
        + f"; expected fewer than {MAX_TAB_STOPS_TO_EXERCISE} from the top (the header bar's "
        "link, _ext/templates/exercise-link.html)")
    top = a.first["exercise_top"]
    assert top is not None and 0 <= top < a.first["first_screen"], (
        f"{chapter}: the first visible link to {notebook} is at y={top} px; expected in the "
        f"first screen (0 to {a.first['first_screen']} px)")


@pytest.mark.parametrize("name", PAGES)
def test_every_tab_stop_shows_where_the_focus_is(audit, name):
    """Item 2: Tab through the whole page; each stop's outline or box-shadow changes when it
    takes the focus (the sidebar toggle showed nothing but a tooltip)."""
    a = audit(name).ok()
    assert len(a.tab_stops) > 3, f"{name}: Tab reached only {len(a.tab_stops)} elements"
    unseen = [s for s in a.tab_stops if s["focused"] == "none" or s["focused"] == s["unfocused"]]
    assert not unseen, (
        f"{name}: {len(unseen)} of {len(a.tab_stops)} Tab stops show no focus (outline and "
        "box-shadow the same focused and not); expected a ring on each (_ext/static/a11y.css):\n"
        + "\n".join(f"  {s['element']} {s['name']!r}: focused {s['focused']}, unfocused "
                    f"{s['unfocused']}" for s in unseen[:12]))


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_nothing_serious(audit, name, mode):
    """Item 3: axe-core, WCAG 2.1 A and AA, in the light theme; its colour rules in the dark."""
    a = audit(name).ok()
    bad = [v for v in a.axe[mode] if v["impact"] in FAILING_IMPACTS]
    assert not bad, (
        f"{name} ({mode} theme): axe-core {AXE_VERSION} finds {len(bad)} serious or critical "
        "violation(s); expected none:\n" + "\n".join(
            f"  {v['impact']} {v['id']} ({v['count']}x): {v['help']}\n    "
            + "\n    ".join(v["where"]) for v in bad))


@pytest.mark.parametrize("name", PAGES)
def test_phone_shows_every_equation_whole(audit, name):
    """Item 4: at 390 px no display equation is clipped (nor the page scrolls sideways)."""
    a = audit(name).ok()
    clipped = a.phone["equations"]
    assert not clipped, (
        f"{name}: at {PHONE['width']} px, {len(clipped)} display equation(s) are wider than "
        "their column; break each at a relation with aligned (or gathered, multline) in the "
        "chapter's source:\n" + "\n".join(f"  needs {e['needs']} px, has {e['has']} px: "
                                          f"{e['tex']}" for e in clipped))
    assert not a.phone["page_scrolls"], f"{name}: at {PHONE['width']} px the page scrolls sideways"


@pytest.mark.parametrize("name", PAGES)
def test_phone_code_blocks_fit_or_show_they_scroll(audit, name):
    """Item 4: at 390 px a code block that scrolls sideways shows it (a shadow on the side that
    has more) and the keyboard can scroll it (it takes the focus)."""
    a = audit(name).ok()
    hidden = [s for s in a.phone["scrollers"] if not (s["cue"] and s["keyboard"])]
    assert not hidden, (
        f"{name}: at {PHONE['width']} px, {len(hidden)} of {len(a.phone['scrollers'])} code "
        "blocks scroll sideways with no cue or no keyboard focus; expected a shadow and "
        "tabindex=0 (_ext/static/a11y.js, a11y.css):\n" + "\n".join(
            f"  cue: {s['cue']}, keyboard: {s['keyboard']}: {s['line']!r}" for s in hidden[:8]))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_page_is_light(audit, chapter):
    """Item 5: a chapter page, cold, under PAGE_BUDGET as a static host serves it."""
    a = audit(chapter).ok()
    sent = a.first["transferred"]
    assert sent < PAGE_BUDGET, (
        f"{chapter}: a first visit transfers {sent / 1e6:.2f} MB ({a.first['decoded'] / 1e6:.2f} "
        f"MB uncompressed); expected under {PAGE_BUDGET / 1e6:.1f} MB. The largest files:\n"
        + "\n".join(f"  {f['bytes'] / 1e3:7.0f} kB {urlsplit(f['url']).path}"
                    for f in a.first["files"][:6]))


@pytest.mark.parametrize("name", PAGES)
def test_mathjax_only_where_there_is_math_and_one_viewport_tag(audit, name):
    """Item 5: MathJax (1.2 MB) loads only on a page with math; one viewport <meta> tag."""
    a = audit(name).ok()
    assert a.first["mathjax"] == a.first["has_math"], (
        f"{name}: MathJax {'loads' if a.first['mathjax'] else 'does not load'} on a page "
        f"{'with' if a.first['has_math'] else 'without'} math; expected it only where there is "
        "math (_ext/book_assets.py)")
    assert a.first["viewport_tags"] == 1, (
        f"{name}: {a.first['viewport_tags']} <meta name=viewport> tags; expected one")
