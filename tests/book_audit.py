"""Readers who use a keyboard, a screen reader or a phone, and what a page weighs (issue 26): what
tests/test_browser.py looks at in each page of the book, during the one visit it makes of it.

In this order, in the page's one visit:

1. `first_look`, once the page is ready: what the cold visit transferred (a fresh profile), its
   formulas and their MathML, where the chapter's exercise link is, its viewport tags;
2. `tab_through` (1280 x 900, before anything was clicked): Tab from the top through the whole
   page, recording for every stop its outline and box-shadow focused and unfocused (transitions
   off, so that each is its final look);
3. `audit`: axe-core (from npm, `make axe`; WCAG 2.0 and 2.1, levels A and AA) in the light
   theme; then the dark theme (the reader's system asks for dark, the theme follows) and axe's
   colour rules again, the only ones whose answer depends on the colours; then a phone's width
   (390 px): display equations and code blocks.

`StaticHost` serves the book the way a static host does (text compressed with gzip, fonts and
images as they are), so that the weight is what a reader's first visit costs.
"""
from __future__ import annotations

import gzip
import mimetypes
import re
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from autograder import course

AXE_VERSION = re.search(r"^AXE_VERSION := (\S+)$", (course.REPO / "Makefile").read_text(),
                        re.M).group(1)
AXE = course.REPO / ".cache" / "npm" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_COLOUR_RULES = ["color-contrast", "link-in-text-block"]
FAILING_IMPACTS = ("serious", "critical")
PHONE = {"width": 390, "height": 844}
MAX_TAB_STOPS_TO_EXERCISE = 30
# A chapter page, cold, as a static host serves it (gzip for text). The issue asked for under
# 1.5 MB; served that way the pages weighed 1.28 to 1.39 MB before it (4.1 to 4.7 MB
# uncompressed, 1.49 MB of it fontawesome.js), so 1.5 MB would not catch that script coming
# back: the budget is 1 MB (README: what the book promises its readers).
PAGE_BUDGET = 1_000_000
# What a static host compresses (GitHub Pages, Netlify, nginx with the usual gzip_types).
COMPRESSED = {".html", ".css", ".js", ".svg", ".json", ".txt", ".xml", ".map", ".ipynb"}


def assignment(chapter: str) -> str:
    """chapters/01-logits -> logits (a chapter's exercise is <assignment>.ipynb)."""
    return re.sub(r"^\d+-", "", chapter.split("/")[-1])


def axe_source() -> str:
    """axe-core's script, fetched by `make axe`; AssertionError (what to run) when missing."""
    assert AXE.exists(), (f"axe-core {AXE_VERSION} is not at {AXE.relative_to(course.REPO)}: run "
                          "`make axe` (npm pack axe-core from the registry)")
    return AXE.read_text()


class StaticHost(SimpleHTTPRequestHandler):
    """http.server, plus what a static host does: text goes out gzip-compressed to a browser
    that accepts it (Content-Encoding: gzip), each file compressed once; a client that does not
    ask for gzip (urllib) gets the file as it is."""
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


# --------------------------------------------------------------------------- in the page

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

# axe.run in the page: its violations, each with where it is (the first three places).
AXE_RUN_JS = """([tags, rules]) => axe.run(document, {
    runOnly: rules ? {type: "rule", values: rules} : {type: "tag", values: tags},
    resultTypes: ["violations"], preload: false, elementRef: false, ancestry: false,
    xpath: false,
  }).then(r => r.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    where: v.nodes.slice(0, 3).map(n => n.target.join(" ") + ": " + n.html.slice(0, 160)),
  })))"""

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
    .filter(e => e.checkVisibility() && wide(e) &&
                 /auto|scroll/.test(getComputedStyle(e).overflowX))
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


def first_look(page, chapter_assignment: str | None) -> dict:
    """What the cold visit transferred and what the page is, before anything is done to it."""
    page.wait_for_function("() => document.fonts.ready.then(() => true)")
    return page.evaluate(FIRST_LOOK_JS, chapter_assignment)


def tab_through(page, most=800, batch=10) -> list[dict]:
    """Every Tab stop from the top of the page, once round."""
    page.evaluate(TAB_RECORDER_JS)
    for _ in range(0, most, batch):
        for _press in range(batch):
            page.keyboard.press("Tab")
        if page.evaluate(TAB_STATE_JS):
            break
    return page.evaluate(TAB_STOPS_JS)


def audit(page, source: str) -> dict:
    """axe in the light theme, its colour rules in the dark one, then the page at 390 px."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.add_script_tag(content=source)
    axe = {"light": page.evaluate(AXE_RUN_JS, [AXE_TAGS, None])}
    page.emulate_media(color_scheme="dark")
    page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    axe["dark"] = page.evaluate(AXE_RUN_JS, [None, AXE_COLOUR_RULES])
    page.set_viewport_size(PHONE)
    try:  # the theme makes a block that scrolls take the focus, 300 ms after a resize
        page.wait_for_function(SETTLED_JS, timeout=SETTLE_MS)
    except PlaywrightTimeout:
        pass  # what is still missing, the test of code blocks reports
    return {"axe": axe, "phone": page.evaluate(PHONE_JS, SCROLLERS)}
