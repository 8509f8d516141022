"""The vectorised CSV reader gives the same numbers as the exact row-by-row reader, declines what
it cannot read exactly, and leaves every error to the exact reader (line numbers included)."""
import numpy as np
import pytest

from harvesters import csvdata
from sysim.errors import InputFileError


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_fast_reader_matches_exact_reader(tmp_path):
    rng = np.random.default_rng(7)
    values = rng.uniform(0.0, 1200.0, 5000)
    body = "".join(f"{k},{float(v)!r}\n" for k, v in enumerate(values))
    path = _write(tmp_path, "light.csv", "\n time_min , irradiance_W_m2\n" + body)
    fast = csvdata.read_table(path)
    assert fast.values is not None  # a plain numeric file takes the vectorised pass
    exact = csvdata._read_rows(path)
    assert fast.header == exact.header == ["time_min", "irradiance_W_m2"]
    assert fast.header_line == exact.header_line == 2
    for table in (fast, exact):
        assert np.array_equal(csvdata.times(table), np.arange(5000) * 60.0)
        assert np.array_equal(csvdata.numbers(table, 1, 1.0, "irradiance"), values)
    assert fast.lines[:2] == [3, 4]  # line numbers still there when an error needs them


@pytest.mark.parametrize("text", [
    "# provenance\ntime_s,power_uW\n0,1\n1,2\n",         # a comment line
    "time_s,power_uW\n0,1\n\n1,2\n",                     # a blank line inside
    'time_s,power_uW\n0,"1"\n1,2\n',                     # a quoted cell
    "time_s,power_uW\r\n0,1\r\n1,2\r\n",                 # Windows line ends
])
def test_files_the_fast_reader_declines_read_the_same(tmp_path, text):
    path = _write(tmp_path, "p.csv", text)
    table = csvdata.read_table(path)
    assert np.array_equal(csvdata.times(table), [0.0, 1.0])
    assert np.array_equal(csvdata.numbers(table, 1, 1e-6, "power"), [1e-6, 2e-6])


@pytest.mark.parametrize("text, where, reason", [
    ("time_s,power_uW\n0,1\n1,x\n", "line 3", "not a number: 'x'"),
    ("time_s,power_uW\n0,1\n1,nan\n", "line 3", "not finite"),
    ("time_s,power_uW\n0,1\n1,-2\n", "line 3", "negative power"),
    ("time_s,power_uW\n0,1\n1,2,3\n", "line 3", "3 values, but the header has 2 columns"),
    ("time_s,power_uW\n0,1\n1\n", "line 3", "1 values, but the header has 2 columns"),
    ("time_s,power_uW\n0,1\n0,2\n", "line 3", "time must increase"),
])
def test_errors_name_the_line_after_the_fast_pass(tmp_path, text, where, reason):
    path = _write(tmp_path, "p.csv", text)
    with pytest.raises(InputFileError) as info:
        table = csvdata.read_table(path)
        csvdata.times(table)
        csvdata.numbers(table, 1, 1e-6, "power", non_negative=True)
    message = str(info.value)
    assert where in message and reason in message, message
