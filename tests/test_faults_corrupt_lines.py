"""A corrupt line in any data file a scenario reads (light trace, harvest power trace, load current
trace, TENG motion file, ambient temperature trace, TMY3 weather file): ``sysim run`` exits 2 with
one line naming the file and the line number, and no traceback.

Each case copies a bundled example and its data file, replaces ONE data line of the copy with a
corruption (text, NaN, infinity, a cut row, NUL bytes, bytes that are not UTF-8, an extra field),
and runs the CLI in-process; the line number in the message must be the corrupted one.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from sysim import cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

#: example scenario, the data path as written in it, the data file, the 1-based line to corrupt,
#: the field of that line the value corruptions replace
FILES = {
    "light trace": ("indoor_pv_office_trace.toml", "../harvesters/data/office-lux-week.csv",
                    ROOT / "harvesters/data/office-lux-week.csv", 40, 1),
    "power trace": ("trace_through_bq25570.toml", "data/teg-power-2days.csv",
                    EXAMPLES / "data/teg-power-2days.csv", 50, 1),
    "load current trace": ("ppk2-trace.toml", "data/ppk2-ble-burst.csv", EXAMPLES / "data/ppk2-ble-burst.csv",
                           300, 1),
    "motion file": ("teng_footsteps.toml", "data/footsteps-day.csv", EXAMPLES / "data/footsteps-day.csv", 700, 0),
    "temperature trace": ("thin-film-cold-snap.toml", "data/ambient-cold-snap.csv",
                          EXAMPLES / "data/ambient-cold-snap.csv", 5, 1),
    "weather file": ("outdoor_pv_weather.toml", "../harvesters/data/greensboro-nc-june-tmy3.csv",
                     ROOT / "harvesters/data/greensboro-nc-june-tmy3.csv", 100, 4),  # GHI
}


def corruptions(line: bytes, pick: int) -> dict[str, bytes]:
    """Ways to spoil one data line, built from the line itself so the rest of the row stays valid."""
    fields = line.split(b",")

    def with_field(value: bytes) -> bytes:
        return b",".join(value if i == pick else f for i, f in enumerate(fields))

    cases = {"text": with_field(b"abc"), "nan": with_field(b"nan"), "infinity": with_field(b"inf"),
             "nul bytes": b"\x00\x00\x00", "not utf-8": with_field(b"\xff\xfe"), "negative": with_field(b"-5")}
    if len(fields) > 1:
        cases["cut row"] = b",".join(fields[: max(len(fields) // 2, 1)])
    return cases


CASES = [(kind, how) for kind, (_, _, data, n, pick) in FILES.items()
         for how in corruptions(data.read_bytes().split(b"\n")[n - 1], pick)]


@pytest.mark.parametrize("kind,how", CASES, ids=[f"{k}-{h}" for k, h in CASES])
def test_a_corrupt_line_names_the_file_and_the_line(tmp_path, capsys, kind, how):
    example, written, data, number, pick = FILES[kind]
    lines = data.read_bytes().split(b"\n")
    lines[number - 1] = corruptions(lines[number - 1], pick)[how]
    bad = tmp_path / f"bad-{data.name}"
    bad.write_bytes(b"\n".join(lines))
    text = (EXAMPLES / example).read_text(encoding="utf-8")
    assert f'"{written}"' in text
    scenario = tmp_path / example
    scenario.write_text(text.replace(f'"{written}"', f'"{bad.name}"'), encoding="utf-8")
    code = cli.main(["run", str(scenario), "--out", str(tmp_path / "out"), "--duration", "1 h", "--quiet"])
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert "Traceback" not in captured.err and "internal error" not in err, err
    if how == "negative" and kind == "temperature trace":
        assert code == 0, err  # -5 °C is a valid reading
        return
    assert code == 2, err
    assert f"{bad}: line {number}:" in err, err
    assert not (tmp_path / "out" / "summary.json").exists()
