"""The rules that keep the codebase in shape, checked on every test run.

Each check runs the same tool a developer would run by hand, from the repository root with
the configuration in pyproject.toml, and shows the tool's own report when it fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from bots.settings import Settings, settings_table_markdown

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOL_TIMEOUT_S = 600


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a Python tool with this interpreter, so it sees the same installed packages."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        check=False,
    )


def report(command: str, result: subprocess.CompletedProcess[str]) -> str:
    return f"`{command}` exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"


def test_import_contracts_hold() -> None:
    """core/ imports no framework, and bots → notifications → storage → core only inward."""
    result = run_tool(
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--no-cache",
    )
    assert result.returncode == 0, report("lint-imports", result)


def test_core_passes_strict_type_checking() -> None:
    result = run_tool("-m", "mypy", "--strict", "core")
    assert result.returncode == 0, report("mypy --strict core", result)


def test_code_passes_ruff_lint() -> None:
    result = run_tool("-m", "ruff", "check", ".")
    assert result.returncode == 0, report("ruff check .", result)


def test_code_is_formatted_with_ruff() -> None:
    result = run_tool("-m", "ruff", "format", "--check", ".")
    assert result.returncode == 0, report("ruff format --check .", result)


def documented_env_vars() -> list[str]:
    """The environment variables in the first column of the settings table."""
    first_cells = (row.split("|")[1] for row in settings_table_markdown().splitlines()[2:])
    return [name for cell in first_cells for name in re.findall(r"COLLABBOT_[A-Z0-9_]+", cell)]


def test_settings_table_lists_every_setting() -> None:
    # Guards the parsing above: an empty list would make the README check pass vacuously.
    assert len(documented_env_vars()) == len(Settings.model_fields)


def test_readme_documents_every_setting() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in documented_env_vars() if not re.search(rf"\b{name}\b", readme)]
    assert not missing, (
        f"README.md does not mention {', '.join(missing)}; paste the table from "
        "bots.settings.settings_table_markdown() into its configuration section"
    )
