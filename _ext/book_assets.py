"""Keep the pages' <script> tags free of console errors (tests/test_browser.py checks it).

1. Jupyter Book adds every .js file under _static/ to every page. _static/mathjax/ holds MathJax's
   components (see `make mathjax`), which Sphinx's `mathjax_path` (tex-chtml.js) loads itself when
   a page needs them; included all at once they register twice and throw. Keep them out.
2. Sphinx 7.4 writes an inline script that an extension adds once the build has started
   (sphinx-thebe's `const THEBE_JS_URL = ...`) twice on every page; the second copy throws a
   SyntaxError. Write each script once.
3. Code lines of up to 80 characters (the limit tests/test_book.py checks in the sources) must
   fit the article column at a 1280-pixel-wide window without scrolling: static/code-fits.css
   sets the code blocks' font size (tests/test_browser.py checks the rendered pages).
"""
from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


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


def _add_code_css(app, config):
    config.html_static_path = list(config.html_static_path) + [str(STATIC)]


def setup(app):
    app.connect("config-inited", _drop_mathjax_components, priority=100)
    app.connect("config-inited", _add_code_css, priority=100)
    app.add_css_file("code-fits.css")
    app.connect("html-page-context", _write_each_script_once, priority=1000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
