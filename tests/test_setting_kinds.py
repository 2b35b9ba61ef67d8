"""Each kind of setting: its defaults are valid values of it, profiles round-trip them,
and a dashboard widget gets the same bounds as the engine."""

from __future__ import annotations

import pytest

from plex_loader_tui.config import SETTINGS, stage_setting
from plex_loader_tui.pipeline import MAX_BATCH_SIZE, MAX_WORKERS
from plex_loader_tui.stages import STAGE_NAMES


@pytest.mark.parametrize("spec", SETTINGS, ids=lambda s: s.name)
def test_the_default_is_a_valid_value_that_round_trips_through_a_profile(spec):
    assert spec.problem(spec.default) is None
    if spec.default is not None:
        assert spec.parse_toml(spec.to_toml(spec.default)) == spec.default


@pytest.mark.parametrize("stage", STAGE_NAMES)
def test_stage_inputs_are_bounded_like_the_engine(stage):
    workers, batch = stage_setting(stage, "workers").input_spec(), stage_setting(stage, "batch_size").input_spec()
    assert (workers.input_type, workers.minimum, workers.maximum) == ("integer", 1, MAX_WORKERS)
    assert (batch.input_type, batch.minimum, batch.maximum) == ("integer", 1, MAX_BATCH_SIZE)


def test_secrets_are_password_inputs_and_switches_are_switches():
    for spec in SETTINGS:
        assert spec.input_spec().password == spec.secret, spec.name
    assert {s.name for s in SETTINGS if s.input_spec().widget == "switch"} == {
        s.name for s in SETTINGS if isinstance(s.default, bool)
    }


def test_only_switches_take_undo_flags():
    from plex_loader_tui.config.kinds import IntSetting

    with pytest.raises(TypeError, match="only a switch"):
        IntSetting("n", 1, "Run", "a number", neg_flags=("--no-n",))
