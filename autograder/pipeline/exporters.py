"""The feedback exporter: nbconvert's HTMLExporter, with its compiled templates kept in memory,
HTML sanitized, and math typeset at export time as MathML.

nbgrader builds a new exporter for every `generate_feedback` call, and each one compiled the
feedback templates again with Jinja (a quarter of a second per notebook). Sharing Jinja's
compiled bytecode across exporters in one process, with Jinja's own BytecodeCache interface,
skips that; each exporter still has its own environment, filters and configuration.

Math: nbgrader's feedback template loads MathJax 2 from a CDN, so a page opened offline, in
JupyterLab's HTML viewer (an iframe without scripts until "Trust HTML") or from an e-mail showed
raw TeX. Here each formula of the Markdown cells is converted to MathML when the page is written
(latex2mathml), which browsers typeset natively with no script and no network; the page loads
nothing (templates/mathjax.html.j2 replaces the CDN script with the math's style sheet).
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets import Bool, default

try:
    from jinja2 import pass_context as contextfilter
except ImportError:  # pragma: no cover
    from jinja2 import contextfilter

TEMPLATES = Path(__file__).with_name("templates")
MATHML = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", MATHML)

# Presentation MathML that latex2mathml writes and a page may show; anything else (an `href`
# from \href, an element a \text{} smuggled in) makes the formula fall back to its TeX.
_ELEMENTS = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext",
             "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder",
             "munderover", "mstyle", "mtable", "mtr", "mtd", "mpadded", "mphantom", "menclose",
             "merror", "mmultiscripts", "mprescripts", "none"}
_ATTRIBUTES = {"display", "mathvariant", "stretchy", "fence", "separator", "minsize", "maxsize",
               "lspace", "rspace", "accent", "accentunder", "movablelimits", "largeop",
               "symmetric", "form", "width", "height", "depth", "linethickness", "displaystyle",
               "scriptlevel", "columnalign", "rowalign", "columnspacing", "rowspacing",
               "columnlines", "rowlines", "frame", "framespacing", "equalrows", "equalcolumns",
               "notation", "mathcolor", "mathbackground", "encoding", "linebreak"}
_SAFE_VALUE = re.compile(r"^[\w .,:;#%+\-()/]*$")
# Operator names TeX knows and latex2mathml 3.81 does not: written as \operatorname{...}.
_OPERATOR_NAMES = re.compile(r"\\(arg)(?![A-Za-z])")
_LEFTOVER_COMMAND = re.compile(r"\\[A-Za-z]+")


class MathError(ValueError):
    """A formula that cannot be shown as MathML (its TeX is shown instead)."""


@lru_cache(maxsize=4096)
def tex_to_mathml(tex: str, display: bool = False) -> str:
    """`tex` (the inside of $...$ or $$...$$) as a MathML <math> element, or MathError.

    Only presentation MathML comes out: every element and attribute is checked against a list,
    text is escaped, and the TeX source rides along as the formula's annotation (screen readers,
    copying) and `alttext`."""
    from latex2mathml.converter import convert
    source = _OPERATOR_NAMES.sub(r"\\operatorname{\1}", tex.strip())
    try:
        markup = convert(source, display="block" if display else "inline")
        root = ET.fromstring(markup)
    except Exception as err:  # latex2mathml's own errors, or markup that is not XML
        raise MathError(f"{type(err).__name__}: {err}") from None
    for el in root.iter():
        ns, _, name = el.tag.rpartition("}")
        if ns != "{" + MATHML or name not in _ELEMENTS:
            raise MathError(f"unexpected element {el.tag!r}")
        for attr, value in el.attrib.items():
            if attr not in _ATTRIBUTES or not _SAFE_VALUE.match(value):
                raise MathError(f"unexpected attribute {attr}={value!r}")
        if name in ("mi", "mo", "mtext") and _LEFTOVER_COMMAND.search(el.text or ""):
            raise MathError(f"unknown command {el.text!r}")
    _space_like_tex(root)
    # <math><semantics>(the formula, one element)<annotation>TeX</annotation></semantics></math>
    children = list(root)
    for child in children:
        root.remove(child)
    semantics = ET.SubElement(root, f"{{{MATHML}}}semantics")
    if len(children) == 1:
        semantics.append(children[0])
    else:
        ET.SubElement(semantics, f"{{{MATHML}}}mrow").extend(children)
    annotation = ET.SubElement(semantics, f"{{{MATHML}}}annotation", encoding="application/x-tex")
    annotation.text = tex.strip()
    root.set("alttext", tex.strip())
    return ET.tostring(root, encoding="unicode", short_empty_elements=False)


_FUNCTIONS = {"log", "ln", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min",
              "sup", "inf", "lim", "det", "arg"}
_ORDINARY = set("/|\u2016([{)]}\u27e8\u27e9")


def _space_like_tex(root: ET.Element) -> None:
    """Spacing that TeX gives and a browser's operator dictionary does not: `/`, `|` and
    brackets (also `\\bigl(`) are ordinary symbols, with no space around them; an operator name
    (log, max, logit) has a thin space after it, none before an opening bracket."""
    for parent in root.iter():
        children = list(parent)
        for i, el in enumerate(children):
            after = children[i + 1] if i + 1 < len(children) else None
            opens = (after is not None and after.tag == f"{{{MATHML}}}mo"
                     and after.text in ("(", "[", "{", "\u27e8", "|"))
            if el.tag == f"{{{MATHML}}}mi" and el.text in _FUNCTIONS and after is not None \
                    and not opens:
                parent.insert(list(parent).index(el) + 1,
                              ET.Element(f"{{{MATHML}}}mspace", width="0.1667em"))
            if el.tag != f"{{{MATHML}}}mo" or not el.text:
                continue
            if el.text in _ORDINARY:
                el.set("lspace", "0")
                el.set("rspace", "0")
            elif el.text.isalpha() and len(el.text) > 1:
                el.set("lspace", "0")
                el.set("rspace", "0" if opens else "0.1667em")


def _fallback(tex: str, display: bool) -> str:
    """A formula that could not be converted: its TeX, escaped, marked as such."""
    fence = "$$" if display else "$"
    return (f"<code class='tex-source' title='this formula could not be typeset'>"
            f"{html.escape(fence + tex + fence)}</code>")


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, writing each formula as MathML instead of TeX for MathJax.

    The Markdown reached here through nbconvert's SanitizeHTML (bleach), which escaped `<`, `>`
    and `&` in the TeX; they are unescaped before conversion (the MathML is escaped again)."""

    def _math(self, tex: str, display: bool) -> str:
        tex = html.unescape(tex)
        try:
            return tex_to_mathml(tex, display)
        except MathError:
            return _fallback(tex, display)

    def block_math(self, body: str) -> str:
        return self._math(body, True)

    def inline_math(self, body: str) -> str:
        return self._math(body, False)

    def latex_environment(self, name: str, body: str) -> str:
        return self._math(f"\\begin{{{name}}}{body}\\end{{{name}}}", True)

    def multiline_math(self, text: str) -> str:  # mistune 2 only
        return text


class _MemoryBytecodeCache(BytecodeCache):
    """Jinja checks each bucket's source checksum, so a changed template is compiled again."""

    def __init__(self):
        self._code = {}

    def load_bytecode(self, bucket):
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


_CACHE = _MemoryBytecodeCache()


class FeedbackExporter(HTMLExporter):
    """Feedback pages: nbconvert's HTML, with the HTML of outputs and Markdown sanitized (a
    student's `<script>` or `<img onerror>` does not run in the page), and math as MathML."""

    sanitize_html = Bool(True, help="sanitize outputs' and Markdown's HTML").tag(config=True)

    @default("template_paths")
    def _template_paths(self, prune=True, root_dirs=None):
        # Ours first: its mathjax.html.j2 stands in for the one that loads MathJax from a CDN.
        return [str(TEMPLATES), *super()._template_paths(prune, root_dirs)]

    @contextfilter
    def markdown2html(self, context, source):
        """nbconvert's filter (attachments, embedded images, anchors) with MathML math."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _CACHE
        return environment

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return safe_page(output), resources


# What a feedback page's body may hold, whatever a notebook put in its cells, outputs or
# metadata (nbconvert writes some of the metadata into attributes, unquoted): the page's own
# structure, text, code, tables, MathML, and images embedded as data. Anything else goes, and
# the page's Content-Security-Policy (templates/mathjax.html.j2) forbids scripts and loads.
_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
         "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "samp", "small",
         "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
         "thead", "tr", "u", "ul", "var", "main"} | _ELEMENTS
_GLOBAL = {"class", "id", "title", "role", "aria-label", "aria-hidden", "lang", "dir"}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$")


def _allowed(tag: str, name: str, value: str) -> bool:
    if name in _GLOBAL or tag in _ELEMENTS and name in _ATTRIBUTES | {"alttext", "xmlns"}:
        return True
    if name == "tabindex":
        return value.lstrip("-").isdigit()
    if tag == "a" and name == "href":
        return value.startswith("#")
    if tag == "a" and name == "name":  # nbgrader's anchors (#top, #comment-...)
        return True
    if tag == "img" and name == "src":
        return bool(_DATA_IMAGE.match(value))
    if tag == "img" and name in ("width", "height"):
        return value.isdigit()
    if tag == "img" and name == "alt":
        return True
    return tag in ("td", "th") and name in ("colspan", "rowspan") and value.isdigit()


def safe_page(page: str) -> str:
    """A whole HTML page with its body cleaned to `_TAGS` and `_allowed` attributes."""
    import bleach
    start = page.find("<body")
    end = page.rfind("</body>")
    if start < 0 or end < 0:
        return bleach.clean(page, tags=_TAGS, attributes=_allowed, strip=True,
                            strip_comments=True)
    open_end = page.index(">", start) + 1
    body = re.sub(r"<(script|style)\b.*?</\1\s*>", "", page[open_end:end], flags=re.S | re.I)
    body = bleach.clean(body, tags=_TAGS, attributes=_allowed, strip=True,
                        strip_comments=True, protocols=["data"])
    return page[:open_end] + body + page[end:]
