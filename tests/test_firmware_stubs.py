"""The emulated machine/time/micropython match the official MicroPython stubs (micropython-esp32-stubs).

For every name the emulation provides: it exists in the stub module; a function or method accepts
every call shape of every stub overload (positional counts, keyword names, keyword-only names) and
requires nothing a stub overload does not; constants the stubs fix (``Final[int] = N``) have that value.
"""
import ast
import importlib.metadata
import inspect
from pathlib import Path

import pytest

from firmware_bridge.inprocess import _agent_namespace

STUBS = "micropython-esp32-stubs"
FW = Path(__file__).parent / "data" / "firmware_noop.py"


def stub_tree(module: str) -> ast.Module:
    path = Path(str(importlib.metadata.distribution(STUBS).locate_file(f"{module}.pyi")))
    return ast.parse(path.read_text(encoding="utf-8"))


def stub_index(tree: ast.Module) -> dict:
    """name -> list of FunctionDef overloads | ClassDef | ("const", value or None)."""
    out: dict = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.ClassDef):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            value = node.value.value if isinstance(node.value, ast.Constant) else None
            out[node.target.id] = ("const", value)
    return out


def class_members(cls: ast.ClassDef) -> dict:
    return stub_index(ast.Module(body=cls.body, type_ignores=[]))


def shapes(fn: ast.FunctionDef, method: bool):
    """(required positional, max positional, keyword-capable names, kw-only names, required kw-only)."""
    a = fn.args
    pos = a.posonlyargs + a.args
    if method:
        pos = pos[1:]
    n_def = len(a.defaults)
    required_pos = len(pos) - n_def
    kw_names = {p.arg for p in a.args[(1 if method and not a.posonlyargs else 0):]}
    kwonly = {p.arg for p in a.kwonlyargs}
    req_kwonly = {p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None}
    return required_pos, len(pos), kw_names | kwonly, kwonly, req_kwonly, a.vararg is not None or a.kwarg is not None


def check_compatible(label: str, impl, overloads: list, method: bool) -> None:
    sig = inspect.signature(impl)
    params = list(sig.parameters.values())
    if method:
        params = params[1:]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    impl_kw = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    impl_req_pos = sum(1 for p in positional if p.default is p.empty)
    impl_req_kw = {p.name for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty}
    stub_names = set()
    for fn in overloads:
        req_pos, max_pos, kw_names, _, req_kwonly, variadic = shapes(fn, method)
        stub_names |= kw_names | {p.arg for p in fn.args.posonlyargs}
        if variadic:
            continue  # the stub does not constrain the call
        assert impl_req_pos <= req_pos, f"{label} requires {impl_req_pos} positional arguments, stub allows {req_pos}"
        assert len(positional) >= max_pos, f"{label} takes {len(positional)} positional arguments, stub passes {max_pos}"
        assert impl_req_kw <= req_kwonly, f"{label} requires keywords {impl_req_kw - req_kwonly}"
        missing = {n for n in kw_names if n not in impl_kw}
        assert not missing, f"{label} does not accept keyword(s) {sorted(missing)} of the stub"
    extra = impl_kw - stub_names
    assert not extra or any(shapes(fn, method)[5] for fn in overloads), \
        f"{label} accepts keyword(s) {sorted(extra)} that no stub overload has"


@pytest.fixture(scope="module")
def emulation():
    _, modules, _ = _agent_namespace(FW)
    return modules


@pytest.mark.parametrize("module", ["machine", "time", "micropython"])
def test_every_emulated_name_exists_in_the_stubs_with_a_compatible_signature(emulation, module):
    index = stub_index(stub_tree(module))
    mod = emulation[module]
    names = [n for n in dir(mod) if not n.startswith("_")]
    assert len(names) >= (20 if module == "machine" else 6)
    for name in names:
        obj = getattr(mod, name)
        assert name in index, f"{module}.{name} is not in the stubs"
        stub = index[name]
        if inspect.isclass(obj):
            assert isinstance(stub, ast.ClassDef), f"{module}.{name} is a class here, not in the stubs"
            members = class_members(stub)
            for attr, value in vars(obj).items():
                if attr.startswith("_") and attr != "__init__" and attr != "__call__":
                    continue
                label = f"{module}.{name}.{attr}"
                assert attr in members, f"{label} is not in the stubs"
                if callable(value):
                    check_compatible(label, value, members[attr], method=True)
                else:
                    kind, fixed = members[attr]
                    if fixed is not None:
                        assert value == fixed, f"{label} = {value}, the stubs fix {fixed}"
        elif callable(obj):
            assert isinstance(stub, list), f"{module}.{name} is a function here, not in the stubs"
            check_compatible(f"{module}.{name}", obj, stub, method=False)
        else:
            kind, fixed = stub
            assert kind == "const"
            if fixed is not None:
                assert obj == fixed, f"{module}.{name} = {obj}, the stubs fix {fixed}"


def test_the_checker_rejects_an_incompatible_signature():
    # the test above could pass vacuously if check_compatible accepted anything
    stub = ast.parse("def lightsleep(time_ms: int, /) -> None: ...").body[0]

    def wrong(ms, extra):
        pass

    with pytest.raises(AssertionError):
        check_compatible("wrong", wrong, [stub], method=False)

    def no_arg():
        pass

    with pytest.raises(AssertionError):
        check_compatible("no_arg", no_arg, [stub], method=False)
    kw_stub = ast.parse("def f(self, *, id: int = 0, timeout: int = 5000): ...").body[0]

    def renamed(self, *, id=0, timeout_ms=5000):
        pass

    with pytest.raises(AssertionError):
        check_compatible("renamed", renamed, [kw_stub], method=True)
