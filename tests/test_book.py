"""The book builds with warnings as errors, every chapter executes, and its pages carry their
figures and math without any network resource. The `book` fixture (it builds the book) lives in
conftest.py, shared with test_browser.py."""
import re

import pytest

from autograder import course

CHAPTERS = sorted((course.REPO / "chapters").glob("0*.md"))


def test_every_chapter_is_in_the_table_of_contents():
    toc = (course.REPO / "_toc.yml").read_text()
    assert all(f"chapters/{c.stem}" in toc for c in CHAPTERS)


@pytest.mark.parametrize("chapter", [c.stem for c in CHAPTERS])
def test_chapter_page_has_figures_with_alt_text_and_local_math(book, chapter):
    page = (book / "chapters" / f"{chapter}.html").read_text()
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) >= 2, "each chapter draws at least two figures"
    for img in images:
        alt = re.search(r'alt="([^"]*)"', img)
        assert alt and len(alt.group(1)) > 20, f"figure without real alt text: {img[:200]}"
        src = re.search(r'src="([^"]+)"', img).group(1)
        assert (book / "chapters" / src).resolve().exists(), src
    assert "_static/mathjax/tex-chtml.js" in page
    assert not re.search(r'src="https?://', page), "a page must not load scripts from the network"
    assert "Traceback (most recent call last)" not in page


@pytest.mark.parametrize("chapter", [c.stem for c in CHAPTERS])
def test_chapter_links_its_exercise_notebook(book, chapter):
    page = (book / "chapters" / f"{chapter}.html").read_text()
    links = re.findall(r'href="([^"]*_downloads/[^"]+\.ipynb)"', page)
    assert links, "each chapter links its student notebook"
    assert all((book / "chapters" / link).resolve().exists() for link in links)


MAX_CODE_LINE = 80


def _code_cell_lines(path):
    """(line number, text) of every code line of the ```{code-cell} blocks of a MyST page (the
    cell's options, `:tags:` lines or a `---` YAML block, are not code)."""
    state = "text"
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if state == "text":
            if stripped.startswith("```{code-cell}"):
                state = "options"
            continue
        if stripped == "```":
            state = "text"
        elif state == "options" and stripped == "---":
            state = "yaml"
        elif state == "yaml":
            if stripped == "---":
                state = "code"
        elif state == "options" and re.match(r"^:[\w-]+:", stripped):
            continue
        else:
            state = "code"
            yield number, line


@pytest.mark.parametrize("chapter", [c.stem for c in CHAPTERS])
def test_chapter_code_lines_fit_the_page(chapter):
    """Code lines of at most 80 characters, so a code cell never scrolls sideways (issue 12;
    tests/test_browser.py checks the rendered page at 1280 px)."""
    path = course.REPO / "chapters" / f"{chapter}.md"
    long = [f"  line {n} ({len(line)} chars): {line.strip()[:100]}"
            for n, line in _code_cell_lines(path) if len(line) > MAX_CODE_LINE]
    assert not long, (f"{path.name}: {len(long)} code line(s) longer than {MAX_CODE_LINE} "
                      "characters:\n" + "\n".join(long))


BOOK_PAGES = [course.REPO / "intro.md"] + sorted((course.REPO / "chapters").glob("*.md"))
# "the second seed text", "the first source text", "the third seed article", "the seed article"
NAMELESS_SOURCE = re.compile(
    r"\b(?:seed|source)\s+(?:texts?|articles?)\b|\b(?:first|second|third)\s+(?:seed|source)\b",
    re.IGNORECASE)


@pytest.mark.parametrize("page", BOOK_PAGES, ids=[p.stem for p in BOOK_PAGES])
def test_sources_are_cited_not_numbered(page):
    """A reader cannot know what "the second seed text" is: cite with {cite}`key` (issue 12)."""
    text = page.read_text()
    bad = [f"  line {text.count(chr(10), 0, m.start()) + 1}: ...{m.group(0)}..."
           for m in NAMELESS_SOURCE.finditer(text)]
    assert not bad, f"{page.name} refers to a source without citing it:\n" + "\n".join(bad)


def test_every_cited_key_is_in_the_bibliography():
    keys = set(re.findall(r"^@\w+\{([^,\s]+),", (course.REPO / "references.bib").read_text(), re.M))
    assert {"nick2025journey", "logits2025article", "bhaskhar2020interpreting"} <= keys
    missing = []
    for page in BOOK_PAGES:
        for m in re.finditer(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text()):
            missing += [f"{page.name}: {k.strip()}" for k in m.group(1).split(",")
                        if k.strip() not in keys]
    assert not missing, "citations of keys that references.bib does not define:\n" + \
        "\n".join(missing)


def _code_lines(path) -> tuple[set, set]:
    """The stripped code lines of a page's hidden cells (tagged remove-input or remove-cell) and
    of its visible ones."""
    import jupytext
    hidden, shown = set(), set()
    for cell in jupytext.read(path).cells:
        if cell.cell_type == "code":
            tags = set(cell.metadata.get("tags", []))
            lines = {line.split("  #")[0].strip() for line in cell.source.splitlines()}
            (hidden if tags & {"remove-input", "remove-cell"} else shown).update(lines)
    return hidden, shown


def _hidden_code_lines() -> dict[str, list[str]]:
    """Per chapter, its hidden lines that are statements of their own (an assignment or a call,
    20 characters or more) and appear in no visible cell of the book."""
    pages = {path.name: _code_lines(path) for path in CHAPTERS}
    shown = "\n".join(set().union(*(visible for _, visible in pages.values())))
    return {name: sorted(line for line in hidden if line not in shown
                         and len(line) >= 20 and re.match(r"[A-Za-z_]", line)
                         and not line.startswith(("print(", "assert ")) and re.search(r"[=(]", line))
            for name, (hidden, _) in pages.items()}


def _leaks(book) -> list[str]:
    """The hidden lines readable in a built book's files (its text, tags removed)."""
    import html
    files = [p for p in book.rglob("*") if p.is_file() and "_static" not in p.parts
             and p.suffix in {".html", ".js", ".txt", ".md", ".ipynb", ".py", ".json"}]
    shipped = "\n".join(html.unescape(re.sub(r"<[^>]+>", "", p.read_text(errors="replace")))
                        if p.suffix == ".html" else p.read_text(errors="replace") for p in files)
    return [f"  {name}: {line}" for name, lines in _hidden_code_lines().items()
            for line in lines if line in shipped]


def test_the_book_ships_no_page_source_and_no_hidden_code(book):
    """The hidden cells compute the graded quantities behind the figures and printed numbers
    (issue 20): the built book has no `_sources/` to download and no hidden line in any file."""
    assert not (book / "_sources").exists(), "the book ships its page sources (_sources/)"
    leaked = _leaks(book)
    assert not leaked, "hidden code is readable in the built book:\n" + "\n".join(leaked[:20])


def test_the_hidden_code_check_finds_a_shipped_source(tmp_path):
    """Proven on a planted page: one chapter's source, as Sphinx would copy it to _sources/."""
    chapter = CHAPTERS[0]
    planted = tmp_path / "_sources" / "chapters" / f"{chapter.name}.txt"
    planted.parent.mkdir(parents=True)
    planted.write_text(chapter.read_text())
    found = _leaks(tmp_path)
    assert len(found) == len(_hidden_code_lines()[chapter.name]) > 20, found[:5]
