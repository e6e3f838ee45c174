"""Config validation: every bad config fails with a one-line message before training."""

from __future__ import annotations

import pytest

from scalinglab.errors import ConfigError
from scalinglab.sweep.config import format_tokens, from_dict, load_config, parse_tokens


def base(**over):
    cfg = {"seq_len": 32, "batch_size": 8, "heads": 2, "models": [{"width": 16, "depth": 1, "budgets": ["16K"]}]}
    cfg.update(over)
    return cfg


def test_valid_config_runs_in_order():
    cfg = from_dict(
        base(
            models=[
                {"width": 16, "depth": 1, "budgets": ["32K", 16000], "seeds": [0, 1]},
                {"width": 32, "depth": 2, "budgets": [2e4]},
            ]
        )
    )
    ids = [r.run_id for r in cfg.runs()]
    assert ids == ["d16-l1-t16K-s0", "d16-l1-t16K-s1", "d16-l1-t32K-s0", "d16-l1-t32K-s1", "d32-l2-t20K-s0"]
    assert cfg.tokens_per_step == 256


@pytest.mark.parametrize(
    "raw, match",
    [
        (base(seqlen=32), r"unknown key 'seqlen'.*did you mean 'seq_len'"),
        (base(models=[{"width": 16, "depht": 1, "budgets": ["16K"]}]), r"unknown key 'depht' in models\[0\].*'depth'"),
        (base(models=[{"width": 0, "depth": 1, "budgets": ["16K"]}]), r"models\[0\]\.width must be positive"),
        (base(models=[{"width": 16, "depth": -2, "budgets": ["16K"]}]), r"models\[0\]\.depth must be positive"),
        (base(models=[{"width": 16, "depth": 1, "budgets": [0]}]), r"budget must be positive"),
        (base(models=[{"width": 16, "depth": 1, "budgets": [100]}]), r"less than one batch \(256"),
        (
            base(heads=4, models=[{"width": 18, "depth": 1, "budgets": ["16K"]}]),
            r"width=18 is not divisible by heads=4",
        ),
        (base(batch_size=0), r"batch_size must be positive"),
        (base(lr=-1.0), r"lr must lie in"),
        (base(models=[]), r"models must be a non-empty list"),
        ({"seq_len": 32}, r"missing key 'models'"),
        (base(models=[{"width": 16, "depth": 1, "budgets": ["lots"]}]), r"cannot read 'lots'"),
        (base(models=[{"width": 16, "depth": 1, "budgets": ["16K", 16000]}]), r"appears twice"),
    ],
)
def test_bad_config_is_rejected_with_clear_message(raw, match):
    with pytest.raises(ConfigError, match="(?s)" + match) as ei:
        from_dict(raw)
    assert "\n" not in ei.value.message


def test_unknown_key_in_file(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\nlearning_rate = 1e-3\n[[models]]\nwidth = 16\ndepth = 1\nbudgets = ["16K"]\n')
    with pytest.raises(ConfigError, match="unknown key 'learning_rate'"):
        load_config(p)


def test_yaml_and_toml_agree(tmp_path):
    yaml = pytest.importorskip("yaml")
    raw = base(models=[{"width": 16, "depth": 1, "budgets": ["16K", "32K"], "seeds": [0, 3]}])
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "c.toml").write_text(
        'seq_len = 32\nbatch_size = 8\nheads = 2\n[[models]]\nwidth = 16\ndepth = 1\nbudgets = ["16K", "32K"]\nseeds = [0, 3]\n'
    )
    assert load_config(tmp_path / "c.yaml") == load_config(tmp_path / "c.toml")


def test_bad_file_format(tmp_path):
    p = tmp_path / "c.json"
    p.write_text("{}")
    with pytest.raises(ConfigError, match="unknown config format"):
        load_config(p)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_token_parsing():
    assert parse_tokens("2M") == 2_000_000
    assert parse_tokens("1.5k") == 1500
    assert parse_tokens(2e6) == 2_000_000
    assert format_tokens(2_000_000) == "2M"
    assert format_tokens(1_500_000) == "1.5M"
    assert format_tokens(16_000) == "16K"
    assert format_tokens(1234) == "1234"
