"""Behaviour does not change unnoticed: the bot's output on the example inbox and
on a generated corpus (statuses, exports, every mail it writes, the office
report) equals the golden files in tests/golden/.

After an intended change of behaviour: ``python3 -m tests.golden --update``,
read the diff of tests/golden/ and commit it with the change.
"""
from __future__ import annotations

import pytest

from .golden import SCENARIOS, differences, run_scenario


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_output_equals_the_golden_files(name, tmp_path):
    scenario = SCENARIOS[name]
    diff = differences(scenario, run_scenario(scenario, tmp_path / "work"))
    assert not diff, (f"the bot's output on '{name}' differs from tests/golden/{name}/ (if the change is "
                      f"intended: python3 -m tests.golden --update, and commit the files):\n{diff}")
