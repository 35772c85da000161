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


def _hidden_code_lines(path):
    """Code lines of a page's cells tagged remove-input or remove-cell that are statements of
    their own (an assignment or a call of 20 characters or more), and appear in no visible cell."""
    import jupytext
    hidden, shown = set(), set()
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        lines = {line.strip() for line in cell.source.splitlines()}
        (hidden if tags & {"remove-input", "remove-cell"} else shown).update(lines)
    return sorted(line for line in hidden - shown
                  if len(line) >= 20 and not line.startswith(("#", "print(", "assert "))
                  and ("=" in line or "(" in line))


def test_the_book_ships_no_page_source_and_no_hidden_code(book):
    """The hidden cells compute the graded quantities behind the figures and printed numbers
    (issue 20): the built book has no `_sources/` to download and no hidden line in any file."""
    import html
    assert not (book / "_sources").exists(), "the book ships its page sources (_sources/)"
    files = [p for p in book.rglob("*") if p.is_file() and "_static" not in p.parts
             and p.suffix in {".html", ".js", ".txt", ".md", ".ipynb", ".py", ".json"}]
    shipped = "\n".join(html.unescape(re.sub(r"<[^>]+>", "", p.read_text(errors="replace")))
                        for p in files)
    leaked = [f"  {chapter.name}: {line}" for chapter in CHAPTERS
              for line in _hidden_code_lines(chapter) if line in shipped]
    assert not leaked, "hidden code is readable in the built book:\n" + "\n".join(leaked[:20])
