"""How much of each page module is declaration: prints name=value lines.

Declaration lines are the module-level statements that describe the page (columns, filters,
fields, specs, the small formatters they name: top-level assignments and functions);
the rest of the code lines (classes: wiring and behaviour) are not. Imports, the module
docstring, blank lines and comments count for neither.

    python bench/page_declarations.py [path/to/page.py ...]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PAGES = ("desktop/pages/users.py", "desktop/pages/catalog.py",
         "desktop/pages/token_balances.py")


def _code_lines(source: str, node: ast.AST) -> set[int]:
    lines = source.splitlines()
    out = set()
    for n in range(node.lineno, node.end_lineno + 1):
        text = lines[n - 1].strip()
        if text and not text.startswith("#"):
            out.add(n)
    return out


def measure(path: Path) -> tuple[int, int, int]:
    """(declaration lines, code lines, total lines of the file)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    declaration: set[int] = set()
    code: set[int] = set()
    for i, node in enumerate(tree.body):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        lines = _code_lines(source, node)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.FunctionDef)):
            declaration |= lines
        else:
            code |= lines
    return len(declaration), len(declaration) + len(code), len(source.splitlines())


def main(paths: list[str]) -> None:
    for name in paths or PAGES:
        path = Path(name)
        if not path.exists():
            continue
        declared, code, total = measure(path)
        stem = path.stem
        print(f"{stem}_total_lines={total}")
        print(f"{stem}_declaration_lines={declared}")
        print(f"{stem}_declaration_share={declared / code:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
