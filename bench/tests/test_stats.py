"""The benchmarks' arithmetic and parsers (no I/O)."""

from __future__ import annotations

import math

import pytest

from codeflow_bench.stats import (
    parse_pgbench,
    parse_pgbench_log,
    parse_wrk,
    percentile,
    ratio,
    summarize_collapsed,
    wrk_duration_ms,
)

WRK_OUTPUT = """\
Running 10s test @ http://127.0.0.1:48080/api/repositories
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   690.12ms  120.00ms   1.00s    70.00%
    Req/Sec    22.10     10.00    50.00     60.00%
  Latency Distribution
     50%  690.00ms
     75%  750.00ms
     90%  900.00ms
     99%    1.00s
  433 requests in 10.01s, 1.20MB read
  Non-2xx or 3xx responses: 3
Requests/sec:     43.26
Transfer/sec:    122.00KB
"""

PGBENCH_OUTPUT = """\
transaction type: script.sql
number of clients: 16
number of transactions actually processed: 137860
number of failed transactions: 0 (0.000%)
latency average = 1.160 ms
initial connection time = 20.000 ms
tps = 13786.123456 (without initial connection time)
"""


def test_percentiles_interpolate_between_ranks() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0
    assert percentile(list(range(101)), 99) == pytest.approx(99.0)


def test_a_percentile_of_nothing_is_missing_and_out_of_range_is_refused() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="outside"):
        percentile([1.0], 101)


def test_ratios_are_missing_without_a_usable_baseline() -> None:
    assert ratio(50.0, 100.0) == 0.5
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None
    assert ratio(1.0, math.nan) is None


def test_wrk_durations_become_milliseconds() -> None:
    assert wrk_duration_ms("456.00us") == pytest.approx(0.456)
    assert wrk_duration_ms("1.5s") == 1500
    assert wrk_duration_ms("2m") == 120_000
    with pytest.raises(ValueError, match="wrk duration"):
        wrk_duration_ms("fast")


def test_wrk_summary_gives_throughput_percentiles_and_failures() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 433
    assert result.seconds == pytest.approx(10.01)
    assert result.rps == pytest.approx(43.26)
    assert result.p50_ms == 690.0
    assert result.p99_ms == 1000.0
    assert result.non_2xx == 3
    assert not result.ok


def test_wrk_socket_errors_are_counted() -> None:
    result = parse_wrk(WRK_OUTPUT + "  Socket errors: connect 0, read 2, write 0, timeout 5\n")
    assert result.errors == 7


def test_pgbench_summary_and_log() -> None:
    result = parse_pgbench(PGBENCH_OUTPUT)
    assert result.transactions == 137_860
    assert result.tps == pytest.approx(13786.123456)
    assert result.latency_avg_ms == pytest.approx(1.16)
    log = "0 1 850 0 1700000000 123\n0 2 1200 0 1700000000 456\nnoise\n"
    assert parse_pgbench_log(log) == [850.0, 1200.0]


def test_unparseable_output_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="wrk"):
        parse_wrk("connection refused")
    with pytest.raises(ValueError, match="pgbench"):
        parse_pgbench("FATAL: no such database")


def test_collapsed_stacks_rank_self_and_inclusive_time() -> None:
    stacks = (
        "main (/x/site-packages/app/server.py:1);handle (/x/src/app/views.py:9);"
        "query (/x/site-packages/asyncpg/connection.py:377) 6\n"
        "main (/x/site-packages/app/server.py:1);handle (/x/src/app/views.py:9);"
        "encode (/usr/lib/python3.11/json/encoder.py:3) 3\n"
        "main (/x/site-packages/app/server.py:1) 1\n"
    )
    summary = summarize_collapsed(stacks)
    assert summary.samples == 10
    assert summary.self_top[0] == ("query (asyncpg/connection.py:377)", 0.6)
    inclusive = dict(summary.inclusive_top)
    assert inclusive["handle (app/views.py:9)"] == pytest.approx(0.9)
    assert inclusive["main (app/server.py:1)"] == 1.0
    assert summarize_collapsed("").samples == 0
