"""docs/ODD.md stays true to the code: current parameter tables, every parameter documented,
and every config key, code object, file, test, metric and summary key it names exists."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import yaml

from sim.config import check_value, field_spec
from tests.conftest import run

ROOT = Path(__file__).resolve().parent.parent
ODD = ROOT / "docs" / "ODD.md"
TEXT = ODD.read_text(encoding="utf-8")
CONFIG_KEY = re.compile(r"`((?:market|firm|behaviour|wom|network|adapt|run)\.[a-z_]+)(?:=([^`]*))?`")


def load_parameters():
    spec = importlib.util.spec_from_file_location("parameters", ROOT / "docs" / "parameters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


parameters = load_parameters()


def test_parameter_tables_match_the_schema():
    held = TEXT[TEXT.index(parameters.START): TEXT.index(parameters.END) + len(parameters.END)]
    assert held == parameters.render(), "docs/ODD.md is out of date: run python docs/parameters.py"


def test_every_schema_field_has_a_doc():
    missing = [key for _, key, spec in parameters.schema_fields() if not spec.metadata.get("doc")]
    assert not missing, f"add a 'doc' to these fields in sim/config.py: {missing}"


def test_every_schema_field_has_a_source_or_status_and_no_entry_is_stale():
    keys, listed = {key for _, key, _ in parameters.schema_fields()}, set(parameters.SOURCES)
    assert not keys - listed, f"add to SOURCES in docs/parameters.py: {sorted(keys - listed)}"
    assert not listed - keys, f"remove from SOURCES, no longer in the schema: {sorted(listed - keys)}"


def test_check_flags_a_stale_document_in_one_line_and_writing_fixes_it(tmp_path, capsys):
    odd = tmp_path / "ODD.md"
    odd.write_text(TEXT.replace("| `market.customers` | `", "| `market.customers` | `1"), encoding="utf-8")
    assert parameters.main(["--check"], odd=odd) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "out of date" in err and "python docs/parameters.py" in err
    assert parameters.main([], odd=odd) == 0
    assert parameters.main(["--check"], odd=odd) == 0
    assert odd.read_text(encoding="utf-8").count(parameters.START) == 1


def test_check_names_missing_markers_in_one_line_and_writes_nothing(tmp_path, capsys):
    odd = tmp_path / "ODD.md"
    odd.write_text("# no tables here\n", encoding="utf-8")
    assert parameters.main([], odd=odd) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and parameters.START in err
    assert odd.read_text(encoding="utf-8") == "# no tables here\n"


def test_every_config_key_and_value_named_in_the_odd_is_valid():
    named = CONFIG_KEY.findall(TEXT)
    assert len(named) > 100
    for key, value in named:
        spec = field_spec(key)
        if value:
            check_value(key, yaml.safe_load(value), spec)


def test_every_code_object_file_and_test_named_in_the_odd_exists():
    for dotted in set(re.findall(r"`(sim(?:\.\w+)+)`", TEXT)):
        parts = dotted.split(".")
        obj = importlib.import_module(".".join(parts[:2]))
        for attr in parts[2:]:
            obj = getattr(obj, attr)
    for path in set(re.findall(r"`((?:sim|docs|tests|configs)/[\w./]*)`", TEXT)):
        assert (ROOT / path).exists(), path
    named_tests = re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", TEXT)
    assert named_tests
    for path, name in named_tests:
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        assert name in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}, f"{path}::{name}"


def test_every_metric_column_and_summary_key_is_described():
    result = run(steps=2)
    firm = result.summary["firms"]["Focal"]
    names = [*result.table.columns, *firm, *firm["churn_by_reason"], *firm["acquisitions_by_channel"]]
    assert not [n for n in names if f"`{n}`" not in TEXT]


def test_the_schedule_table_lists_the_models_processes_in_order():
    from sim.model import SCHEDULE

    section = TEXT[TEXT.index("## 3. Process overview"):TEXT.index("## 4. Design concepts")]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    codes = [re.search(r"`(sim\.[\w.]+)`", row.split("|")[3]).group(1) for row in rows]
    assert codes == [f"{process.__module__}.{process.__qualname__}" for process in SCHEDULE]
