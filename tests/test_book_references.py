"""The book's numbering and the places the course points students to (issue 12, item 3).

Chapters and sections are numbered (`numbered: true` on the "Chapters" part of _toc.yml; with
`parts:`, a top-level `options: numbered` has no effect). Failure messages, instructions and pages
point to a place in the book as `Chapter N, 'Exact Heading Title'` (or with double quotes); every
such citation must name an existing `#`, `##` or `###` heading of the chapter numbered N. No book
build is needed: the chapters' MyST sources are parsed. Unquoted mentions ("Chapter 1, the linear
layer") are prose and are not checked.
"""
import json
import re

import yaml

from autograder import course

REPO = course.REPO

# `Chapter 4, 'Log-softmax'` or `Chapter 4, "Log-softmax"` (an escaped \" in source is fine).
# A single-quoted title may hold an apostrophe followed by a letter ("the sigmoid's slope").
CITATION = re.compile(
    r"""Chapter\s+(\d+),\s*\\?(?:'((?:[^'\n]|'(?=[A-Za-z]))+)'|"([^"\n]+?)\\?")""")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")


def numbered_chapters():
    """[(number, path)] of the chapters in the numbered part(s) of _toc.yml, in order."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    out = []
    for part in toc.get("parts", []):
        if not part.get("numbered"):
            continue
        for entry in part.get("chapters", []):
            out.append((len(out) + 1, REPO / f"{entry['file']}.md"))
    return out


def normalise(title):
    """Compare titles ignoring case and MyST markup (code, emphasis, math, links, roles)."""
    t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)    # [text](link) -> text
    t = re.sub(r"\{[\w:-]+\}`", "`", t)                    # {math}`x` -> `x`
    t = re.sub(r"[`*$\\]", "", t)
    t = re.sub(r"\s+", " ", t).strip().lower()
    return t.rstrip(".:")


def headings(path):
    """Normalised texts of the `#`..`###` headings of a MyST page, outside code fences."""
    found, fence = [], None
    for line in path.read_text().splitlines():
        m = FENCE.match(line)
        if m:
            mark = m.group(2)
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip()[len(mark):]:
                fence = None
            continue
        if fence is None:
            h = HEADING.match(line)
            if h:
                found.append(normalise(h.group(2)))
    return found


def citations_in(text):
    for m in CITATION.finditer(text):
        yield int(m.group(1)), m.group(2) or m.group(3), text.count("\n", 0, m.start()) + 1


def sources():
    """(label, text) for every file whose citations are checked."""
    for path in sorted((REPO / "autograder" / "checks").glob("*.py")):
        yield str(path.relative_to(REPO)), path.read_text()
    for path in sorted((REPO / "chapters").glob("*.md")):
        yield str(path.relative_to(REPO)), path.read_text()
    for path in sorted((REPO / "solutions").glob("*/*.ipynb")):
        nb = json.loads(path.read_text())
        for i, cell in enumerate(nb["cells"]):
            src = cell["source"]
            yield f"{path.relative_to(REPO)} cell {i}", "".join(src) if isinstance(src, list) else src


def test_chapters_and_sections_are_numbered():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    parts = toc.get("parts", [])
    assert parts and parts[0].get("numbered") is True, \
        "the Chapters part must carry `numbered: true` (options: has no effect with parts:)"
    chapters = numbered_chapters()
    assert [p.stem[:2] for _, p in chapters] == [f"{n:02d}" for n, _ in chapters], \
        "chapter files 0N-*.md must be the N-th numbered chapter"
    assert len(chapters) == len(list((REPO / "chapters").glob("0*.md")))


def test_heading_parser_ignores_code_and_markup(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n## The gradient: $\\sigma(z) - y$\n\n```{code-cell} python\n"
                    "# a comment\n```\n\n### `pos_weight` for *rare* labels\n")
    assert headings(page) == ["title", "the gradient: sigma(z) - y", "pos_weight for rare labels"]
    text = ("see Chapter 2, 'The sigmoid's slope' and Chapter 3, \"Soft labels\" "
            "but not Chapter 1, the linear layer")
    assert [(n, t) for n, t, _ in citations_in(text)] == [
        (2, "The sigmoid's slope"), (3, "Soft labels")]


def test_every_quoted_chapter_citation_names_an_existing_heading():
    chapters = dict(numbered_chapters())
    titles = {n: headings(p) for n, p in chapters.items()}
    bad, count = [], 0
    for label, text in sources():
        for n, title, line in citations_in(text):
            count += 1
            where = f"{label}:{line}: Chapter {n}, '{title}'"
            if n not in titles:
                bad.append(f"{where}: there is no chapter {n}")
            elif normalise(title) not in titles[n]:
                elsewhere = [m for m, ts in titles.items() if normalise(title) in ts]
                hint = (f" (it is a heading of chapter {elsewhere[0]})" if elsewhere
                        else f" (chapter {n}, {chapters[n].name}, has no such #/##/### heading)")
                bad.append(where + hint)
    assert count > 0, "no citation found: the pattern or the file list is wrong"
    assert not bad, "citations of places that do not exist:\n" + "\n".join(bad)
