"""Keep the pages' <script> tags free of console errors (tests/test_browser.py checks it).

1. Jupyter Book adds every .js file under _static/ to every page. _static/mathjax/ holds MathJax's
   components (see `make mathjax`), which Sphinx's `mathjax_path` (tex-chtml.js) loads itself when
   a page needs them; included all at once they register twice and throw. Keep them out.
2. Sphinx 7.4 writes an inline script that an extension adds once the build has started
   (sphinx-thebe's `const THEBE_JS_URL = ...`) twice on every page; the second copy throws a
   SyntaxError. Write each script once.
"""


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


def setup(app):
    app.connect("config-inited", _drop_mathjax_components, priority=100)
    app.connect("html-page-context", _write_each_script_once, priority=1000)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
