import ast
import sys
from importlib.metadata import version
from pathlib import Path

import codeflow_contracts

SOURCE_DIR = Path(codeflow_contracts.__file__).resolve().parent
ALLOWED_IMPORTS = {"codeflow_contracts", "pydantic"}


def imported_top_level_modules(source: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


def test_the_package_version_matches_its_distribution_metadata() -> None:
    assert codeflow_contracts.__version__ == version("codeflow-contracts")


def test_the_package_imports_nothing_but_pydantic_and_the_standard_library() -> None:
    foreign = {
        f"{source.name}: {module}"
        for source in SOURCE_DIR.glob("*.py")
        for module in imported_top_level_modules(source)
        if module not in ALLOWED_IMPORTS and module not in sys.stdlib_module_names
    }

    assert foreign == set()


def test_everything_exported_exists() -> None:
    for name in codeflow_contracts.__all__:
        assert hasattr(codeflow_contracts, name), name
