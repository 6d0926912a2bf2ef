"""The README's first command runs `campaign demo`: it must work on the embedded defaults."""

import json
from pathlib import Path

SAMPLES = Path(__file__).parents[1] / "samples"


def test_the_demo_imports_the_samples_and_writes_a_personalised_preview(cli, workdir):
    result = cli("demo", "--samples", str(SAMPLES))
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "2910 added" in result.stdout  # the main sample file, its bad rows skipped
    assert (workdir / "config.toml").is_file()

    lists = json.loads(cli("lists", "--json").stdout)
    assert [row["name"] for row in lists] == ["Newsletter nationale"]
    assert lists[0]["active"] == 2910 + 237

    html = (workdir / "demo-preview.html").read_text(encoding="utf-8")
    first = json.loads(
        cli(
            "subscribers", "list", "--list", "Newsletter nationale", "--json", "--limit", "1"
        ).stdout
    )[0]
    assert first["first_name"] in html
    assert "fonts.googleapis.com" not in html


def test_running_the_demo_twice_adds_nobody_twice(cli, workdir):
    assert cli("demo", "--samples", str(SAMPLES)).exit_code == 0
    again = cli("demo", "--samples", str(SAMPLES))
    assert again.exit_code == 0, again.stderr
    assert "0 added" in again.stdout
    newsletters = json.loads(cli("newsletter", "list", "--json").stdout)
    assert len(newsletters) == 1
