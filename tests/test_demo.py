"""`scalinglab demo`: the bundled ladder is fitted and its largest model predicted."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from scalinglab.cli import build_app
from scalinglab.demo import run_demo


@pytest.mark.slow
def test_demo_predicts_the_held_out_largest_model():
    result = run_demo()
    target = result.target
    assert len(target) >= 1 and (target["params"] == result.runs.frame["params"].max()).all()
    assert result.fit.data["params"].max() < target["params"].min()  # the target was not fitted
    assert np.isfinite(target["rel_error"]).all()
    assert (target["rel_error"].abs() < 0.05).all()  # measured: +1.6% on the bundled ladder
    assert (target["lower"] < target["predicted"]).all() and (target["predicted"] < target["upper"]).all()


@pytest.mark.slow
def test_demo_cli_json():
    out = CliRunner().invoke(build_app(), ["demo", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.stdout)
    assert payload["fit"]["law"] == "chinchilla" and payload["target"][0]["actual"] > 0
