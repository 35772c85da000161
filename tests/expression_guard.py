"""Nothing a student reads may be copied into a graded cell: the guard on expressions.

`tests/pages_teach.py` tries whole objects (a page's function passed to a graded check). A student
who wants the points copies one level down: an expression from a page, a docstring or a failure
message, renamed and wrapped in the exercise's signature. This guard works on expressions:

1. From every statement of every reference solution (the solution regions of `solutions/`, and
   the catalogs' other correct implementations) it takes every sub-expression of two or more
   operations (`WEIGHT`; three in a question's or an experiment's cell), in a *normal form* that
   abstracts the names a student chooses: variables and `self.<attribute>` become v0, v1, ...
   in order of first appearance (whichever order the operands of `+` and `*` are written in);
   numbers are floats; library functions keep their names (`np.exp`, `special.expit`, also
   when imported bare).
2. From everything a student reads it takes every expression it can parse, in the same form:
   the built book's visible code, outputs and prose (inline code, and code-like runs of prose
   text: `max(z,0) - z*y + ...` written in a sentence counts), the glossary, the released
   notebooks (instructions, given code, comments, docstrings, visible tests) and the feedback a
   graded class gets (every message the checks can write, and those a graded class got).
3. A normal form found on both sides is a finding: (where it was read, the expression as written
   there, the solution cell it gives away).

What it does not see: an idea restated in other operations (`(p - y)` for `-(y - p)`), a formula
of one operation (`np.argmax(Z, axis=-1)` is one call; its keyword is an argument), mathematics
(TeX is the book's job and is never parsed), and a page object that computes a graded quantity
under an unrelated expression (pages_teach.py tries those as whole objects).

Command line (prints the findings, exit status 1 if any):

    .venv/bin/python -m tests.expression_guard             # sources: MyST pages, notebooks, checks
    .venv/bin/python -m tests.expression_guard --html _build/html   # the built book instead
    .venv/bin/python -m tests.expression_guard --assignment softmax
"""
from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Operations (calls, operators, comparisons, subscripts, transposes) at least: in an
# implementation cell every statement is the answer; a question's or an experiment's code is
# mostly plumbing, and its answer differs per student (autograder/variants.py). A keyword is an
# argument, not an operation: `counts.sum(axis=0)` is one operation, which a page may show.
WEIGHT = 2
WEIGHT_QUESTIONS = 3
QUESTION = re.compile(r"^(answer|q|question|questions|experiment)(-|$)")
# Calls that only convert, count or draw: they are not operations of an answer.
PLUMBING = {"range", "len", "float", "int", "bool", "str", "list", "tuple", "dict", "zip",
            "enumerate", "print", "isinstance", "np.asarray", "np.array", "np.arange"}

# Library modules, under the names a page or a notebook gives them.
MODULES = {"np": "np", "numpy": "np", "scipy": "scipy", "special": "special", "math": "math",
           "sp": "special", "plt": "plt"}
# Functions a page or notebook may import bare (`from scipy.special import expit`).
BARE = {"expit": "special.expit", "log_expit": "special.log_expit",
        "logsumexp": "special.logsumexp", "log_softmax": "special.log_softmax",
        "xlogy": "special.xlogy", "log1p": "np.log1p", "expm1": "np.expm1"}


# ------------------------------------------------------------------------------------------------
# Normal forms
# ------------------------------------------------------------------------------------------------

_OPS = (ast.BinOp, ast.BoolOp, ast.Compare, ast.Call, ast.Subscript, ast.IfExp, ast.ListComp,
        ast.GeneratorExp, ast.DictComp, ast.SetComp)


def weight(node: ast.AST) -> int:
    """Operations in an expression: operators, calls, comparisons, subscripts and transposes."""
    n = 0
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and (_callee(sub.func) in PLUMBING or _callee(sub.func) == ""):
            continue  # converting, counting, drawing; or a function whose work is not seen
        if isinstance(sub, _OPS):
            n += 1
        elif isinstance(sub, ast.UnaryOp) and not isinstance(sub.operand, ast.Constant):
            n += 1
        elif isinstance(sub, ast.Attribute) and sub.attr == "T":  # a transpose
            n += 1
    return n


def _callee(func: ast.AST) -> str:
    """A call's library function (`np.exp`, `special.expit`, a method such as `.sum`), a
    builtin's name, "print" for plotting, or "" for a function of the page's or the student's
    own (whose work is not in the expression)."""
    if isinstance(func, ast.Name):
        return func.id if func.id in PLUMBING or func.id in BARE else ""
    if isinstance(func, ast.Attribute):
        dotted = _dotted(func)
        if dotted:
            return "print" if dotted.startswith("plt.") else dotted
        return "." + func.attr  # a method: x.sum(axis=0)
    return ""


def _dotted(node: ast.AST) -> str | None:
    """`np.exp` for an attribute chain on a library module (None otherwise)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in MODULES:
        parts.append(MODULES[node.id])
        dotted = ".".join(reversed(parts))
        return dotted.replace("scipy.special.", "special.").replace("numpy.", "np.")
    return None


class _Normal:
    """The normal form of one expression (a string); names numbered in order of appearance."""

    def __init__(self, aliases: dict[str, str], orders: dict | None = None):
        self.aliases = aliases
        self.names: dict[str, str] = {}
        self.orders = orders or {}  # id of a + or * node -> the order of its operands

    def var(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def form(self, node: ast.AST) -> str:  # noqa: C901 - one case per node type
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None:
                return repr(v)
            if isinstance(v, (int, float)):
                return repr(float(v))
            return repr(v)
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            if node.id in MODULES:
                return MODULES[node.id]
            return self.var(node.id)
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted:
                return dotted
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                return self.var(f"self.{node.attr}")
            return f"{self.form(node.value)}.{node.attr}"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) and \
                    isinstance(node.operand.value, (int, float)) and \
                    not isinstance(node.operand.value, bool):
                return repr(-float(node.operand.value))
            return f"({type(node.op).__name__} {self.form(node.operand)})"
        if isinstance(node, ast.BinOp):
            op = type(node.op).__name__
            if op in ("Add", "Mult"):
                # Names are numbered in an order that does not depend on how the operands were
                # written (`normal` tries the orders of operands of the same shape), then the
                # operands are sorted.
                terms = self.orders.get(id(node)) or _operands(node)
                return "(" + f" {op} ".join(sorted(self.form(t) for t in terms)) + ")"
            return f"({self.form(node.left)} {op} {self.form(node.right)})"
        if isinstance(node, ast.BoolOp):
            return "(" + f" {type(node.op).__name__} ".join(self.form(v) for v in node.values) + ")"
        if isinstance(node, ast.Compare):
            parts = [self.form(node.left)]
            for op, right in zip(node.ops, node.comparators):
                parts += [type(op).__name__, self.form(right)]
            return "(" + " ".join(parts) + ")"
        if isinstance(node, ast.Call):
            args = [self.form(a) for a in node.args]
            kws = sorted(f"{k.arg}={self.form(k.value)}" for k in node.keywords)
            return f"{self.form(node.func)}({', '.join(args + kws)})"
        if isinstance(node, ast.Subscript):
            return f"{self.form(node.value)}[{self.form(node.slice)}]"
        if isinstance(node, ast.Slice):
            return ":".join("" if p is None else self.form(p)
                            for p in (node.lower, node.upper, node.step))
        if isinstance(node, (ast.Tuple, ast.List)):
            return "[" + ", ".join(self.form(e) for e in node.elts) + "]"
        if isinstance(node, ast.IfExp):
            return f"({self.form(node.body)} if {self.form(node.test)} else {self.form(node.orelse)})"
        if isinstance(node, ast.Starred):
            return "*" + self.form(node.value)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return f"[{self.form(node.elt)} {self._generators(node.generators)}]"
        if isinstance(node, ast.DictComp):
            return f"{{{self.form(node.key)}: {self.form(node.value)} " \
                   f"{self._generators(node.generators)}}}"
        if isinstance(node, ast.JoinedStr):
            return "f" + repr("".join(v.value if isinstance(v, ast.Constant) else
                                      "{" + self.form(v.value) + "}" for v in node.values))
        if isinstance(node, ast.Dict):
            return "{" + ", ".join(f"{self.form(k) if k else '**'}: {self.form(v)}"
                                   for k, v in zip(node.keys, node.values)) + "}"
        return f"<{type(node).__name__} {ast.unparse(node)}>"  # a lambda: as written

    def _generators(self, generators) -> str:
        return " ".join(f"for {self.form(g.target)} in {self.form(g.iter)}"
                        + "".join(f" if {self.form(c)}" for c in g.ifs) for g in generators)



def _flatten(node, op):
    if isinstance(node, ast.BinOp) and isinstance(node.op, op):
        return _flatten(node.left, op) + _flatten(node.right, op)
    return [node]


def _operands(node: ast.BinOp) -> list:
    """The operands of a chain of + (or of *), in the order of their name-blind shapes."""
    return sorted(_flatten(node, type(node.op)), key=_shape)


def _orders(node: ast.AST, limit: int = 64):
    """Every way to order the operands of + and * that have the same shape (at most `limit`):
    the normal form is the smallest over them, so it does not depend on how they were written."""
    import itertools
    choices = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) and isinstance(sub.op, (ast.Add, ast.Mult)):
            terms = _operands(sub)
            groups = [list(g) for _, g in itertools.groupby(terms, key=_shape)]
            if any(len(g) > 1 for g in groups):
                perms = [[sum(p, []) for p in itertools.product(
                    *[list(map(list, itertools.permutations(g))) for g in groups])]]
                choices.append((id(sub), perms[0]))
    combos = itertools.product(*[[(key, order) for order in orders] for key, orders in choices])
    for combo in itertools.islice(combos, limit):
        yield dict(combo)


def _shape(node: ast.AST) -> str:
    """A name-blind form, to order the operands of + and * the same way whatever their names."""
    fresh = ast.parse(ast.unparse(node), mode="eval").body  # a copy: the original keeps its names
    return ast.dump(_Blind().visit(fresh), annotate_fields=False)


class _Blind(ast.NodeTransformer):
    def visit_Name(self, node):
        return ast.Name(id="_" if node.id not in MODULES and node.id not in BARE else node.id)

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return ast.Name(id="_")
        return self.generic_visit(node)


def normal(node: ast.AST, aliases: dict[str, str] | None = None) -> str:
    return min(_Normal(aliases or {}, orders).form(node) for orders in _orders(node))


def expressions(tree: ast.AST, minimum: int = WEIGHT):
    """Every expression node of `tree` with at least `minimum` operations."""
    for node in ast.walk(tree):
        if isinstance(node, ast.expr) and not isinstance(node, (ast.Lambda, ast.JoinedStr)) \
                and weight(node) >= minimum:
            yield node


def imported_aliases(tree: ast.AST) -> dict[str, str]:
    """Bare names bound by imports from libraries (`from scipy.special import expit as e`)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            base = {"scipy.special": "special", "numpy": "np", "math": "math",
                    "scipy": "scipy"}.get(node.module)
            if base:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in ("scipy.special",) and alias.asname:
                    aliases[alias.asname] = "special"
    return aliases


# ------------------------------------------------------------------------------------------------
# The reference side
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Given:
    assignment: str
    cell: str          # grade id of the solution cell
    text: str          # the expression as the reference writes it


def reference_forms(assignments: list[str] | None = None) -> dict[str, list[Given]]:
    """normal form -> where the reference solutions compute it: every solution region of the
    source notebooks, and the other correct implementations of the catalogs (tests/catalog/)."""
    from autograder import course, notebooks
    from tests.catalog import catalog
    found: dict[str, list[Given]] = {}
    for assignment in assignments or course.assignments():
        nb = notebooks.read(course.source_notebook(assignment))
        given = "\n".join(c.source for c in nb.cells
                          if c.cell_type == "code" and not notebooks.is_solution(c)
                          and not notebooks.is_test(c))
        aliases = {**BARE, **imported_aliases(_parse(given) or ast.Module(body=[], type_ignores=[]))}
        codes = [(notebooks.grade_id(c), _solution_regions(c.source)) for c in nb.cells
                 if notebooks.is_solution(c)]
        codes += [(impl.cell, impl.code) for impl in catalog(assignment).CORRECT]
        for cell, code in codes:
            tree = _parse(code)
            if tree is None:
                continue
            minimum = WEIGHT_QUESTIONS if QUESTION.match(cell) else WEIGHT
            for node in expressions(tree, minimum):
                found.setdefault(normal(node, aliases), []).append(
                    Given(assignment, cell, ast.unparse(node)))
    return found


def _solution_regions(source: str) -> str:
    """The code between ### BEGIN SOLUTION and ### END SOLUTION, dedented per region."""
    import textwrap
    regions = re.findall(r"### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION", source,
                         re.S | re.M)
    return "\n".join(textwrap.dedent(r) for r in regions) if regions else source


# ------------------------------------------------------------------------------------------------
# The reader's side
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Read:
    where: str         # file and place
    text: str          # the expression as the student reads it
    form: str


def _parse(code: str) -> ast.AST | None:
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def from_code(code: str, where: str) -> list[Read]:
    """Expressions of a piece of Python (a code cell, a code block); its comments and string
    constants are read as prose. Code that does not parse (an IPython magic, a fragment) is
    read line by line, then as prose."""
    code = re.sub(r"^\s*[%!].*$", "", code, flags=re.M)
    tree = _parse(code)
    if tree is None:
        return [r for i, line in enumerate(code.splitlines(), 1)
                for r in (from_code(line, f"{where}, line {i}") if _parse(line) else
                          from_prose(line, f"{where}, line {i}"))]
    aliases = {**BARE, **imported_aliases(tree)}
    found = [Read(where, ast.unparse(n), normal(n, aliases)) for n in expressions(tree)]
    for text in _comments(code):
        found += from_prose(text, where + " (a comment)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) > 8:
            found += from_prose(node.value, where + " (a string)")
    return found


def _comments(code: str) -> list[str]:
    try:
        return [tok.string.lstrip("#") for tok in tokenize.generate_tokens(io.StringIO(code).readline)
                if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return re.findall(r"#(.*)$", code, flags=re.M)


# A run of prose that may be code: tokens of Python, with no two words side by side.
_TOKEN = re.compile(r"""\s*(?:(?P<num>\d+\.\d*(?:e[-+]?\d+)?|\d*\.\d+(?:e[-+]?\d+)?|\d+(?:e[-+]?\d+)?)
                        |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
                        |(?P<op>\*\*|//|==|!=|<=|>=|[-+*/@%<>(),\[\]:=~|&^])
                        |(?P<other>\S))""", re.X)
_WORDS = {"and", "or", "not", "in", "is", "if", "else", "for", "lambda"}


def from_prose(text: str, where: str) -> list[Read]:
    """Expressions written in prose: inline code, formulas typed as code in a sentence."""
    found = []
    for line in text.splitlines():
        if not re.search(r"[-+*/@(|&]", line):
            continue
        for run in _runs(line):
            tree = _longest_parse(run)
            if tree is not None:
                found += [Read(where, ast.unparse(n), normal(n, BARE)) for n in expressions(tree)]
    return found


def _runs(line: str) -> list[list[str]]:
    """Maximal runs of tokens in which no two operands stand side by side (English does that)."""
    runs, run, last = [], [], None
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup
        tok = m.group(kind)
        operand = kind in ("num", "name") and tok not in _WORDS
        if kind == "other" or (operand and last in ("operand", ")")) or \
                (tok == "(" and last == ")"):
            if run:
                runs.append(run)
            run = [] if kind == "other" else [tok]
            last = None if kind == "other" else ("operand" if operand else tok)
            continue
        run.append(tok)
        last = "operand" if operand else (")" if tok in ")]" else tok)
    if run:
        runs.append(run)
    return [r for r in runs if len(r) >= 4]


def _top_level_equals(tokens: list[str]) -> int | None:
    """The index of the last `=` outside brackets (an assignment, not a keyword argument)."""
    depth, found = 0, None
    for i, tok in enumerate(tokens):
        depth += tok in "([" and 1 or 0
        depth -= tok in ")]" and 1 or 0
        if tok == "=" and depth == 0:
            found = i
    return found


def _longest_parse(tokens: list[str]) -> ast.AST | None:
    """The tokens as an expression, trimming a few tokens off either end until one parses."""
    for trim_left in range(0, min(4, len(tokens))):
        for trim_right in range(0, min(6, len(tokens) - trim_left)):
            part = tokens[trim_left:len(tokens) - trim_right]
            if len(part) < 4:
                break
            text = " ".join(part)
            top = _top_level_equals(part)
            if top is not None:  # `a = b` in prose: take the right side
                text = " ".join(part[top + 1:])
            try:
                return ast.parse(text, mode="eval")
            except (SyntaxError, ValueError):
                continue
    return None


# --- where a student reads: the book (MyST sources or built HTML), notebooks, feedback ---

def read_myst(path: Path) -> list[Read]:
    """A chapter as a reader sees it: code cells not removed (hide-input is one click away),
    fenced code blocks, and prose with its math left out."""
    import jupytext
    nb = jupytext.read(path)
    found = []
    label = _label(path)
    for i, cell in enumerate(nb.cells, 1):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code":
            if "remove-cell" in tags or "remove-input" in tags:
                continue
            found += from_code(cell.source, f"{label}, cell {i}")
        else:
            text = _without_math(cell.source)
            for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S):
                found += from_code(block, f"{label}, cell {i} (a code block)")
            text = re.sub(r"```.*?```", " ", text, flags=re.S)
            found += from_prose(text, f"{label}, cell {i}")
    return found


def _without_math(text: str) -> str:
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"```\{math\}.*?```", " ", text, flags=re.S)
    text = re.sub(r"\{math\}`[^`]*`", " ", text)
    return re.sub(r"(?<!\\)\$[^$\n]+\$", " ", text)


def read_html(path: Path) -> list[Read]:
    """A page of the built book: every visible code cell and code block, the cells' outputs and
    the prose (MathJax source left out)."""
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("article") or soup
    for tag in main.select("script, style, .math, span.math, div.math, mjx-container"):
        tag.decompose()
    found = []
    label = _label(path)
    for i, pre in enumerate(main.select("div.cell_input pre, div.highlight pre"), 1):
        if pre.find_parent("div", class_="cell_output"):
            continue
        found += from_code(pre.get_text(), f"{label}, code {i}")
        pre.decompose()
    for code in main.select("code"):  # inline code: Sphinx puts each word in a span of its own
        code.replace_with(code.get_text(""))
    found += from_prose(main.get_text("\n"), f"{label}, prose")
    return found


def read_notebook(path: Path) -> list[Read]:
    """A released notebook: markdown (instructions), code (given code, stubs with their
    docstrings and comments, visible tests)."""
    from autograder import notebooks
    nb = notebooks.read(path)
    found = []
    label = _label(path)
    for i, cell in enumerate(nb.cells, 1):
        where = f"{label}, cell {i}" + (f" ({notebooks.grade_id(cell)})" if notebooks.grade_id(cell)
                                         else "")
        if cell.cell_type == "code":
            found += from_code(cell.source, where)
        else:
            text = _without_math(cell.source)
            for block in re.findall(r"```[^\n]*\n(.*?)```", text, re.S):
                found += from_code(block, where + " (a code block)")
            found += from_prose(re.sub(r"```.*?```", " ", text, flags=re.S), where)
    return found


def read_checks(path: Path) -> list[Read]:
    """The failure messages a check can show (every string constant of the module, f-strings'
    fixed parts included): what a graded class's feedback can say."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else " x "
                           for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        found += from_prose(text, f"{_label(path)}, line {node.lineno} (a message)")
    return found


def read_messages(autograded: Path) -> list[Read]:
    """What the grader told a student in their feedback: the message of every failed cell of
    their autograded notebook and the grader's notes (their own code, shown beside them in the
    page, is theirs to read, and so are the lines of it a message quotes where it raised: the
    `where:` lines of _common.where)."""
    import json
    nb = json.loads(Path(autograded).read_text())
    found = []
    for cell in nb.get("cells", []):
        gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id") or "a cell"
        for out in cell.get("outputs", []):
            text = out.get("evalue") if out.get("output_type") == "error" else (
                "".join(out.get("text", "")) if "[grader]" in "".join(out.get("text", ""))
                else "")
            if text:
                text = re.sub(r"^(?:  where:    | {12})(?:In \[\d+\] line \d+|\(and \d+ outer).*\n?",
                              "", text, flags=re.M)
                found += from_prose(text, f"{_label(autograded)}, {gid} (feedback)")
    return found


def _label(path: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def student_reads(html: Path | None = None, assignments: list[str] | None = None) -> list[Path]:
    """Everything the guard reads: the book (built HTML pages under `html`, else the MyST
    sources), the released notebooks and the checks' messages."""
    from autograder import course
    if html is not None:
        pages = sorted(Path(html).glob("**/*.html"))
        pages = [p for p in pages if p.parent.name == "chapters" or p.name == "intro.html"]
    else:
        pages = sorted((REPO / "chapters").glob("*.md")) + [REPO / "intro.md"]
    names = assignments or course.assignments()
    pages = [p for p in pages if p.name not in ("references.md", "references.html")]
    return pages + [course.student_notebook(a) for a in names] + \
        [course.COURSE_ROOT / "checks" / f"{course.module_name(a)}.py" for a in names]


def read(path: Path) -> list[Read]:
    path = Path(path)
    if path.suffix == ".html":
        return read_html(path)
    if path.suffix == ".ipynb":
        return read_notebook(path)
    if path.suffix == ".py":
        return read_checks(path)
    return read_myst(path)


@dataclass(frozen=True)
class Finding:
    read: Read
    given: Given

    def __str__(self):
        return (f"{self.read.where}: `{self.read.text}` is `{self.given.text}` of "
                f"{self.given.assignment}/{self.given.cell}")


def findings(paths: list[Path], reference: dict[str, list[Given]]) -> list[Finding]:
    return findings_in([r for path in paths for r in read(path)], reference)


def findings_in(reads: list[Read], reference: dict[str, list[Given]]) -> list[Finding]:
    found = []
    for r in reads:
        for g in reference.get(r.form, ()):
            found.append(Finding(r, g))
    unique = {(f.read.where, f.read.form, f.given.assignment, f.given.cell): f for f in found}
    return list(unique.values())


def main(argv=None) -> int:
    import argparse
    sys.path.insert(0, str(REPO))
    parser = argparse.ArgumentParser(prog="python -m tests.expression_guard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="files to read (default: all)")
    parser.add_argument("--html", type=Path, help="read the built book's pages in this folder")
    parser.add_argument("--assignment", action="append", help="only this assignment's answers")
    args = parser.parse_args(argv)
    reference = reference_forms(args.assignment)
    paths = args.paths or student_reads(args.html)
    found = findings(paths, reference)
    for f in sorted(found, key=str):
        print(f)
    print(f"{len(found)} finding(s) in {len(paths)} file(s); {len(reference)} reference "
          "expressions", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
