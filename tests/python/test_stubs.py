"""The type stubs editors read (tern/_tern.pyi) name exactly what the extension has."""
import ast
import pathlib

import tern
from tern import _tern

STUB = pathlib.Path(_tern.__file__).with_name("_tern.pyi")
ALIASES = {"ArrayLike", "AttributeValue"}  # typing aliases of the stub alone


def stub_tree():
    return ast.parse(STUB.read_text())


def members(node: ast.ClassDef) -> set:
    names = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.ClassDef)):
            names.add(item.name)
        elif isinstance(item, ast.AnnAssign):
            names.add(item.target.id)
    return names - {"__init__"}


def test_every_stubbed_name_and_member_exists():
    for node in stub_tree().body:
        if isinstance(node, ast.ClassDef) and node.name == "_PtqModule":
            for inner in node.body:
                if isinstance(inner, ast.ClassDef):
                    runtime = getattr(_tern.ptq, inner.name)
                    assert members(inner) <= set(dir(runtime)), inner.name
        elif isinstance(node, ast.ClassDef):
            runtime = getattr(_tern, node.name)
            missing = members(node) - set(dir(runtime))
            assert not missing, f"{node.name} lacks {missing}"
        elif isinstance(node, ast.FunctionDef):
            assert callable(getattr(_tern, node.name)), node.name
        elif isinstance(node, ast.AnnAssign) and node.target.id not in ALIASES | {"ptq"}:
            assert hasattr(tern, node.target.id), node.target.id


def test_every_public_name_is_stubbed():
    stubbed = set()
    for node in stub_tree().body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            stubbed.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            stubbed.add(node.target.id)
    public = {name for name in dir(_tern) if not name.startswith("_")} | {"__version__"}
    assert public - stubbed == set()
