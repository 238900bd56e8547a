"""docs/flow.md walks a chat message through the code, one `file::name` per step: every name must exist."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
REFERENCE = re.compile(r"`([\w/]+\.py)::([\w.]+)`")


def defined_names(module: ast.Module) -> set[str]:
    """Module-level names, `Class.member` for what classes define (nested classes included), and the names of
    functions defined inside module-level functions (the views a blueprint builder registers)."""
    names = set()

    def visit(body, prefix: str, inside_function: bool) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(prefix + node.name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.", False)
                elif not inside_function:
                    visit(node.body, "", True)
            elif isinstance(node, ast.Assign) and not inside_function:
                names.update(prefix + target.id for target in node.targets if isinstance(target, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and not inside_function:
                names.add(prefix + node.target.id)

    visit(module.body, "", False)
    return names


def test_every_step_of_the_flow_names_something_that_exists():
    references = REFERENCE.findall((ROOT / "docs" / "flow.md").read_text())
    assert len(references) >= 25
    missing = []
    for path, name in references:
        source = ROOT / path
        if not source.is_file() or name not in defined_names(ast.parse(source.read_text())):
            missing.append(f"{path}::{name}")
    assert missing == []
