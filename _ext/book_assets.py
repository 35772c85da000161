"""What each page of the book loads, and the fixes that keep its pages clean and accessible.

Console errors (tests/test_browser.py checks them):

1. Jupyter Book adds every .js file under _static/ to every page. _static/mathjax/ holds MathJax's
   components (see `make mathjax`), which Sphinx's `mathjax_path` (tex-chtml.js) loads itself when
   a page needs them; included all at once they register twice and throw. Keep them out.
2. Sphinx 7.4 writes an inline script that an extension adds once the build has started
   (sphinx-thebe's `const THEBE_JS_URL = ...`) twice on every page; the second copy throws a
   SyntaxError. Write each script once.
3. Code lines of up to 80 characters (the limit tests/test_book.py checks in the sources) must
   fit the article column at a 1280-pixel-wide window without scrolling: static/code-fits.css
   sets the code blocks' font size (tests/test_browser.py checks the rendered pages).

Readers who use a keyboard, a screen reader or a phone, and page weight (issue 26;
tests/test_browser.py checks each in Chromium, with axe-core; tests/book_audit.py):

4. The chapter's exercise notebook is linked in the page's header bar (templates/
   exercise-link.html, placed by `article_header_end` in _config.yml), a few Tab stops from the
   top, not only in the chapter's last section.
5. Names that say what the reader sees: a hidden code cell's toggle is named by its visible
   "Show code cell source" (myst-nb names it "Toggle hidden content"); the search button by its
   text (templates/components/search-button-field.html); the references page is a list of
   list items (docutils writes `role="doc-biblioentry"`, deprecated, inside `role="list"`).
6. static/a11y.css: a visible focus ring on everything a keyboard reaches; on a phone, equation
   numbers above their equation, so the equation has the column's width, and code blocks that
   scroll sideways show it (a shadow on the side that has more) and take the keyboard
   (static/a11y.js).
7. Weight: the theme's fontawesome.js (1.5 MB of icons as JavaScript) goes; the theme's CSS
   already draws its few icons with the Font Awesome web font (templates/static/
   webpack-macros.html). MathJax loads only on pages with math of their own (Sphinx counts the
   math of every page a page's table of contents includes: the intro has none). One viewport
   <meta> tag per page, not three.
"""
import posixpath
import re
from pathlib import Path
from urllib.parse import quote

from docutils import nodes
from sphinx import addnodes

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"


def _drop_mathjax_components(app, config):
    def name(entry):
        return entry if isinstance(entry, str) else entry[0]

    config.html_js_files = [f for f in config.html_js_files
                            if not str(name(f) or "").startswith("mathjax/")]


def _write_each_script_once(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for js in scripts:
        key = (str(js.filename or ""), tuple(sorted(js.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # in place: the builder restores its own list after the page


def _add_static_and_templates(app, config):
    config.html_static_path = list(config.html_static_path) + [str(STATIC)]
    config.templates_path = [str(TEMPLATES)] + list(config.templates_path)


def _mathjax_only_where_math(app, pagename, templatename, context, doctree):
    """Sphinx's mathjax extension (priority 500) loads MathJax on a page whose table of contents
    includes a page with math: take it off a page that has no math of its own."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list) or not app.config.mathjax_path:
        return
    if app.env.get_domain("math").data["has_equations"].get(pagename, False):
        return
    mathjax = posixpath.join("_static", app.config.mathjax_path)

    def is_mathjax(js):
        body = str(js.attributes.get("body", ""))
        return str(js.filename or "") == mathjax or body.startswith("window.MathJax")
    scripts[:] = [js for js in scripts if not is_mathjax(js)]


def _one_viewport_tag(app, pagename, templatename, context, doctree):
    """Sphinx's basic layout writes the viewport <meta>; docutils adds one to `metatags`
    (and the theme's copy goes in templates/layout.html)."""
    if isinstance(context.get("metatags"), str):
        context["metatags"] = re.sub(r'<meta name="viewport"[^>]*>\n?', "", context["metatags"])


def _exercise_notebooks(app, pagename, templatename, context, doctree):
    """The notebooks a page offers for download ({download}`x.ipynb <...>`): for the link in
    the page's header bar."""
    found = {}
    if doctree is not None:
        for node in doctree.findall(addnodes.download_reference):
            target, filename = str(node.get("reftarget", "")), node.get("filename")
            if filename and target.endswith(".ipynb") and filename not in found:
                found[filename] = {
                    "href": context["pathto"]("_downloads/" + quote(filename), 1),
                    "name": posixpath.basename(target)}
    context["exercise_notebooks"] = list(found.values())


def _visit_hidden_cell(self, node):
    """myst-nb's toggle of a hidden code cell, named by what it shows ("Show code cell source")
    instead of aria-label="Toggle hidden content" (axe: label-content-name-mismatch)."""
    from html import escape
    classes = " ".join(node["classes"])
    self.body.append(f'<details class="admonition hide {classes}">\n<summary>\n')
    self.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    self.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    self.body.append("</summary>\n")


def _visit_citation(self, node):
    """A bibliography entry is a list item of the references' list (docutils writes the DPUB
    role doc-biblioentry, deprecated, which a role="list" does not accept as its item)."""
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _depart_citation(self, node):
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def setup(app):
    app.setup_extension("myst_nb")
    from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput
    app.add_node(HideCodeCellNode, override=True, html=(_visit_hidden_cell, depart_HideCellInput))
    app.add_node(nodes.citation, override=True, html=(_visit_citation, _depart_citation))
    app.connect("config-inited", _drop_mathjax_components, priority=100)
    app.connect("config-inited", _add_static_and_templates, priority=100)
    app.add_css_file("code-fits.css")
    app.add_css_file("a11y.css")
    app.add_js_file("a11y.js", defer="defer")
    app.connect("html-page-context", _exercise_notebooks)
    app.connect("html-page-context", _one_viewport_tag)
    app.connect("html-page-context", _mathjax_only_where_math, priority=600)
    app.connect("html-page-context", _write_each_script_once, priority=1000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
