"""No floats for money: the pure layers never write a float literal or call float()."""

from __future__ import annotations

import ast
from pathlib import Path

import clinicledger

ROOT = Path(clinicledger.__file__).parent


def test_domain_and_formats_hold_no_floats() -> None:
    offences = []
    for folder in ("domain", "formats"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, float):
                    offences.append(f"{path.name}:{node.lineno} float literal")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "float"
                ):
                    offences.append(f"{path.name}:{node.lineno} float()")
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                    offences.append(f"{path.name}:{node.lineno} true division")
    assert offences == []
