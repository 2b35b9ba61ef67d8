"""Every default of a setting is written once, in the settings table.

RunConfig's fields and EnrichSettings' user-facing fields take their defaults
from ``SETTINGS``; these tests fail when one of them is written again as a
literal (the source is read, not only the values compared) or drifts away.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import plex_loader_tui.config.run_config as run_config_module
import plex_loader_tui.enrich.settings as enrich_settings_module
from plex_loader_tui.config import SETTINGS, SETTINGS_BY_NAME, RunConfig, stage_setting
from plex_loader_tui.enrich.settings import SECONDS_PER_DAY, EnrichSettings
from plex_loader_tui.stages import STAGE_NAMES

#: EnrichSettings field -> (its setting, how the setting's value becomes the field's).
ENRICH_FIELDS = {
    "tmdb_base_url": ("tmdb_base_url", lambda v: v),
    "imdb_base_url": ("imdb_base_url", lambda v: v),
    "tmdb_rate": ("tmdb_rate", lambda v: v),
    "imdb_rate": ("imdb_rate", lambda v: v),
    "timeout": ("http_timeout", lambda v: v),
    "cache_ttl": ("cache_ttl_days", lambda v: v * SECONDS_PER_DAY),
}
#: RunConfig fields whose default is computed (a factory), not a setting's default value.
FACTORY_FIELDS = {"stages", "data_dir", "config_dir", "provenance"}


def _class_node(module: object, name: str) -> ast.ClassDef:
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))  # type: ignore[arg-type]
    return next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == name)


def _default_of_calls(node: ast.AST) -> list[str]:
    """The setting names of every ``default_of("…")`` call in ``node``."""
    return [
        call.args[0].value
        for call in ast.walk(node)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "default_of"
        and call.args and isinstance(call.args[0], ast.Constant)
    ]


def test_every_setting_has_a_runconfig_field_or_a_stage_field():
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    for spec in SETTINGS:
        if spec.stage_key is None:
            assert spec.name in fields, spec.name
    assert fields - {"stages", "provenance"} == {s.name for s in SETTINGS if s.stage_key is None}


def test_runconfig_defaults_equal_the_settings_table():
    config = RunConfig()
    for spec in SETTINGS:
        expected = spec.default if spec.default is not None else spec.computed_default()
        assert config.setting_value(spec.name) == expected, spec.name
    for stage in STAGE_NAMES:
        assert config.stage(stage).workers == stage_setting(stage, "workers").default
        assert config.stage(stage).batch_size == stage_setting(stage, "batch_size").default


def test_runconfig_writes_no_default_of_its_own():
    node = _class_node(run_config_module, "RunConfig")
    for statement in node.body:
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        name = statement.target.id
        assert statement.value is not None, f"RunConfig.{name} has no default"
        if name in FACTORY_FIELDS:
            assert isinstance(statement.value, ast.Call) and statement.value.func.id == "field", name  # type: ignore[attr-defined]
            continue
        assert _default_of_calls(statement.value) == [name], (
            f"RunConfig.{name} = {ast.unparse(statement.value)}: take it from the table with default_of({name!r})"
        )


def test_enrich_settings_defaults_equal_the_settings_table():
    defaults = EnrichSettings()
    from_config = EnrichSettings.from_config(RunConfig(data_dir=Path("/nonexistent")))
    for field_name, (setting, convert) in ENRICH_FIELDS.items():
        expected = convert(SETTINGS_BY_NAME[setting].default)
        assert getattr(defaults, field_name) == expected, field_name
        assert getattr(from_config, field_name) == expected, field_name


@pytest.mark.parametrize("field_name", sorted(ENRICH_FIELDS))
def test_enrich_settings_takes_its_user_defaults_from_the_table(field_name):
    tree = ast.parse(Path(inspect.getfile(enrich_settings_module)).read_text(encoding="utf-8"))
    module_values = {
        node.target.id if isinstance(node, ast.AnnAssign) else node.targets[0].id: node.value  # type: ignore[union-attr]
        for node in tree.body
        if isinstance(node, (ast.AnnAssign, ast.Assign))
        and isinstance(node.target if isinstance(node, ast.AnnAssign) else node.targets[0], ast.Name)
    }
    node = _class_node(enrich_settings_module, "EnrichSettings")
    statement = next(
        s for s in node.body
        if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name) and s.target.id == field_name
    )
    value = statement.value
    if isinstance(value, ast.Name):  # a module constant: follow it
        value = module_values[value.id]
    assert value is not None
    assert _default_of_calls(value) == [ENRICH_FIELDS[field_name][0]], (
        f"EnrichSettings.{field_name}: its default must come from default_of({ENRICH_FIELDS[field_name][0]!r})"
    )
