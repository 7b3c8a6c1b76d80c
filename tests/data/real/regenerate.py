"""Regenerate the corpus of real pytest sessions: public suites from their sdists, one situation each.

    python tests/data/real/regenerate.py             (needs the package index; a few minutes)
    python tests/data/real/regenerate.py CASE ...    (only those cases; the others are kept)

Each case is ONE pytest session of a released project's own test suite, unpacked from its sdist and
not installed, that writes pytest-json-report JSON, JUnit XML, a pytest-reportlog file and CTRF at once.
Where the suite cannot produce the situation by itself (a flaky test, a crash, an interrupt) one
small test file is added to its tests, and the case's notes say so; its source is in INJECTED below.
pytest's own final summary line, its exit status and its terminal output are kept beside the
reports (`expected.json`, `terminal.txt`): the golden figures the parsers are checked against.
Absolute paths are rewritten to what a GitHub runner would show, so nothing of the machine that
generated them is kept.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = [
    "pytest==9.2.0",
    "pytest-json-ctrf==0.6.1",
    "pytest-json-report==1.5.0",
    "pytest-metadata==3.1.1",
    "pytest-reportlog==1.0.0",
    "pytest-rerunfailures==16.7",
    "pytest-xdist==3.8.0",
    "pytest-timeout==2.4.0",
    "hypothesis==6.170.17",  # attrs' conftest imports it
]
# Plugins that act or print in every session they are installed in (flaky's report, a line of the header):
# installed, beside TOOLS, only for the cases that name them, in a virtualenv of their own.
PLUGINS = {
    "flaky": "flaky==3.8.1",
    "pytest-repeat": "pytest-repeat==0.9.4",
}
RUNNER_ROOT = "/home/runner/work/{name}/{name}"
RUNNER_PYTHON = "/opt/hostedtoolcache/Python/3.11.7/x64"
RUNNER_HOME = "/home/runner"
REPORTS = ("report.json", "report.xml", "report.jsonl", "report.ctrf.json")
REPORT_ARGS = ["--json-report", "--json-report-file=report.json", "--junitxml=report.xml", "--report-log=report.jsonl",
               "--ctrf=report.ctrf.json"]  # fmt: skip
# What a CTRF report says of the generating machine's kernel is left out (the schema makes both optional).
CTRF_MACHINE = ("osRelease", "osVersion")
NO_CACHE = ["-p", "no:cacheprovider"]
SIX_SUBSET = "not test_move_items or dbm or tkinter"  # keeps the skips and the warning, drops 117 moves
MORE_SUBSET = "Nth or Unique or Iter or Take or Tail or zz"  # a few classes, and the added module
PACKAGING_SUBSET = ["tests/test_elffile.py", "tests/test_errors.py", "tests/test_tokenizer.py"]
PACKAGING_OFF = ["-p", "no:logging", "-p", "no:threadexception", "-p", "no:tmpdir"]  # as its addopts, bar one
TERMINAL_LINES = 60  # terminal.txt keeps the last lines of a longer output
TIMEOUT = 600

# project: (sdist, where its importable source lies in the sdist)
PROJECTS: dict[str, tuple[str, str]] = {
    "attrs": ("attrs==26.1.0", "src"),
    "boltons": ("boltons==26.2.0", ""),
    "cachetools": ("cachetools==8.0.3", "src"),
    "idna": ("idna==3.21", ""),
    "iniconfig": ("iniconfig==2.3.1", "src"),
    "more-itertools": ("more-itertools==11.2.1", ""),
    "packaging": ("packaging==26.4", "src"),
    "six": ("six==1.17.0", ""),
    "toolz": ("toolz==1.2.0", ""),
}

# The files added to a suite for situations it cannot produce by itself.
INJECTED = {
    # Fails on its first attempt only (a counter file beside it), and one test that always fails.
    "flaky": '''"""Added to the suite: a test that fails on its first attempt only, and one that always fails."""

from pathlib import Path

ATTEMPTS = Path(__file__).with_name("flaky-attempts.txt")


def attempt():
    done = int(ATTEMPTS.read_text()) if ATTEMPTS.exists() else 0
    ATTEMPTS.write_text(str(done + 1))
    return done + 1


def test_flaky_passes_on_rerun():
    assert attempt() > 1, "fails on its first attempt only"


def test_fails_on_every_attempt():
    assert 6 * 7 == 43
''',
    # Errors in setup: once only, and on every attempt; and an error in teardown after a pass.
    "setup-errors": '''"""Added to the suite: fixtures that fail in setup (once, always) and in teardown."""

from pathlib import Path

import pytest

ATTEMPTS = Path(__file__).with_name("setup-attempts.txt")


@pytest.fixture
def service_warming_up():
    done = int(ATTEMPTS.read_text()) if ATTEMPTS.exists() else 0
    ATTEMPTS.write_text(str(done + 1))
    if done == 0:
        raise ConnectionError("service not up yet (first attempt only)")
    return done + 1


@pytest.fixture
def service_never_up():
    raise ConnectionError("service never comes up")


@pytest.fixture
def service_fails_to_stop():
    yield
    raise RuntimeError("service did not stop")


def test_setup_flaky(service_warming_up):
    assert service_warming_up > 1


def test_setup_always_errors(service_never_up):
    pass


def test_teardown_errors(service_fails_to_stop):
    pass
''',
    # Three independent failures and a pass, after the suite's own tests.
    "failures": '''"""Added to the suite: three independent failures and a pass."""


def test_first_failure():
    assert "expected" == "actual"


def test_second_failure():
    assert [1, 2, 3] == [1, 2]


def test_third_failure():
    raise ValueError("third failure")


def test_passes_after_the_failures():
    assert True
''',
    "exit": '''"""Added to the suite: a test that ends the session with pytest.exit()."""

import pytest


def test_before_the_exit():
    assert True


def test_calls_pytest_exit():
    pytest.exit("stopping the session: the license server is unreachable")


def test_never_runs():
    assert True
''',
    "exit-zero": '''"""Added to the suite: a failure, then a test that calls pytest.exit(returncode=0)."""

import pytest


def test_fails_before_the_exit():
    assert 1 == 2


def test_calls_pytest_exit_with_zero():
    pytest.exit("nothing more worth checking", returncode=0)


def test_never_runs():
    assert True
''',
    "keyboard-interrupt": '''"""Added to the suite: a test that raises KeyboardInterrupt, as Ctrl-C during it would."""


def test_before_the_interrupt():
    assert True


def test_raises_keyboard_interrupt():
    raise KeyboardInterrupt


def test_never_runs():
    assert True
''',
    # The generator sends SIGINT to the pytest process once the marker file appears.
    "sigint": '''"""Added to the suite: a test that waits for a SIGINT sent to the pytest process from outside."""

import os
import time
from pathlib import Path

MARKER = Path(__file__).with_name("waiting-for-sigint")


def test_waits_for_sigint():
    MARKER.write_text(str(os.getpid()))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
    raise AssertionError("no SIGINT came within 60 s")


def test_never_runs():
    assert True
''',
    "crash": '''"""Added to the suite: a test that kills its own process with SIGKILL, as the OOM killer would."""

import os
import signal


def test_kills_its_own_process():
    os.kill(os.getpid(), signal.SIGKILL)
''',
    "syntax-error": '''"""Added to the suite: a module that does not compile (line 7)."""


def test_would_pass():
    assert True

def test_broken(:
    pass
''',
    "xfail": '''"""Added to the suite: each kind of expected failure, strict and not."""

import pytest


@pytest.mark.xfail(reason="known bug", strict=False)
def test_xfail_fails():
    assert 0


@pytest.mark.xfail(reason="known bug, perhaps fixed", strict=False)
def test_xfail_passes():
    assert True


@pytest.mark.xfail(reason="must fail", strict=True)
def test_xfail_strict_fails():
    assert 0


@pytest.mark.xfail(reason="must fail", strict=True)
def test_xfail_strict_passes():
    assert True


@pytest.mark.xfail(raises=KeyError, reason="only a KeyError is expected", strict=False)
def test_xfail_wrong_exception():
    raise ValueError("not the expected exception")


@pytest.mark.xfail(run=False, reason="would hang")
def test_xfail_not_run():
    raise AssertionError("never runs")


def test_imperative_xfail():
    pytest.xfail("decided at run time")
''',
    "teardown-errors": '''"""Added to the suite: errors in setup, and in teardown after a pass, a failure and a skip."""

import pytest


@pytest.fixture
def fails_to_release():
    yield
    raise RuntimeError("could not release the resource")


@pytest.fixture
def fails_to_acquire():
    raise RuntimeError("could not acquire the resource")


def test_passes_then_teardown_errors(fails_to_release):
    assert True


def test_fails_then_teardown_errors(fails_to_release):
    assert 1 == 2


def test_skips_then_teardown_errors(fails_to_release):
    pytest.skip("skipped inside the test")


def test_setup_errors(fails_to_acquire):
    assert True
''',
    "subtests": '''"""Added to the suite: subtests that pass, fail and skip within one test; one of passing ones."""

import pytest


def test_subtests_mixed(subtests):
    for i in range(4):
        with subtests.test(msg="even", i=i):
            if i == 3:
                pytest.skip("three is skipped")
            assert i % 2 == 0


def test_subtests_all_pass(subtests):
    for i in range(3):
        with subtests.test(i=i):
            assert i < 3
''',
    # pytest-timeout: its signal method fails a test and the session goes on; its thread method,
    # for a test that ignores signals, dumps the stacks and ends the process (os._exit(1)).
    "timeout": '''"""Added to the suite: one test over its time limit fails; a hung one takes the session down."""

import time

import pytest


@pytest.mark.timeout(1)
def test_slow():
    time.sleep(30)


def test_after_the_slow_one():
    assert True


@pytest.mark.timeout(1, method="thread")
def test_hung():
    time.sleep(30)


def test_never_run():
    assert True
''',
    # A fixture that fails as it closes, in tests marked xfail: pytest counts each teardown an xfail.
    "xfail-then-teardown": '''"""Added to the suite: a fixture fails to close after xfail tests, one failing."""

import pytest


@pytest.fixture
def fails_to_close():
    yield
    raise RuntimeError("could not close the resource")


@pytest.mark.xfail(reason="known bug")
def test_expected_failure(fails_to_close):
    assert False


@pytest.mark.xfail(reason="known bug, fixed since")
def test_unexpected_pass(fails_to_close):
    assert True


@pytest.mark.xfail(reason="known bug, fixed since", strict=True)
def test_strict_unexpected_pass(fails_to_close):
    assert True


@pytest.mark.xfail(reason="known bug, fixed since", strict=False)
def test_lenient_unexpected_pass(fails_to_close):
    assert True


def test_runs():
    assert True
''',
    # A module-scoped fixture that fails as it closes, after the module's last test was skipped in
    # setup (a skipif mark, then a fixture that skips): pytest counts the teardown error.
    "skip-then-teardown": '''"""Added to the suite: a module fixture fails to close after a test skipped in setup."""

import pytest


@pytest.fixture(scope="module", autouse=True)
def fails_to_close():
    yield
    raise RuntimeError("could not close the module's resource")


@pytest.fixture
def needs_a_gpu():
    pytest.skip("no GPU here")


def test_runs():
    assert True


def test_skipped_by_its_fixture(needs_a_gpu):
    assert True


@pytest.mark.skipif(True, reason="never on this platform")
def test_last_skipped():
    assert True
''',
    # unittest's subTest: one subtest fails, so pytest fails the session, though the test itself passes.
    "unittest-subtest-failure": '''"""Added to the suite: a unittest test whose only failure is one of its subtests."""

import unittest


class TestValues(unittest.TestCase):
    def test_values(self):
        for i in range(3):
            with self.subTest(i=i):
                self.assertNotEqual(i, 1)
''',
    # unittest's subTest: one subtest skips; pytest counts the test passed.
    "unittest-subtest-skip": '''"""Added to the suite: a unittest test one of whose subtests skips."""

import unittest


class TestPlatforms(unittest.TestCase):
    def test_platforms(self):
        for name in ("linux", "windows"):
            with self.subTest(name=name):
                if name == "windows":
                    self.skipTest("not on this runner")
                self.assertTrue(name)
''',
    # Collected by --doctest-modules: a function whose doctest fails, one whose doctest passes, and a test.
    "doctest": '''"""Added to the suite: a function whose doctest fails, beside one whose doctest passes."""


def mean(values):
    """The arithmetic mean.

    >>> mean([1, 2, 3])
    2.0
    """
    return sum(values) / len(values)


def median(values):
    """The middle value.

    >>> median([3, 1, 2])
    2
    >>> median([3, 1, 2, 4])
    2.5
    """
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def test_mean():
    assert mean([2, 4]) == 3
''',
    # The flaky plugin's decorator (not pytest-rerunfailures): its attempts are counted in a file beside it.
    "flaky-plugin": '''"""Added to the suite: flaky's @flaky, one test passing on its second run, one never passing."""

from pathlib import Path

from flaky import flaky

ATTEMPTS = Path(__file__).with_name("flaky-attempts.txt")


def attempt():
    done = int(ATTEMPTS.read_text()) if ATTEMPTS.exists() else 0
    ATTEMPTS.write_text(str(done + 1))
    return done + 1


@flaky(max_runs=3)
def test_passes_on_second_run():
    assert attempt() > 1, "fails on its first run only"


@flaky(max_runs=3)
def test_never_passes():
    assert 6 * 7 == 43


def test_not_flaky():
    assert True
''',
    # pytest-repeat --count 3: one test fails on its second repetition only.
    "repeat": '''"""Added to the suite: under --count 3, a test failing on its second repetition only."""

from pathlib import Path

ATTEMPTS = Path(__file__).with_name("repeat-attempts.txt")


def attempt():
    done = int(ATTEMPTS.read_text()) if ATTEMPTS.exists() else 0
    ATTEMPTS.write_text(str(done + 1))
    return done + 1


def test_fails_on_second_repetition():
    assert attempt() != 2, "fails on its second repetition only"


def test_always_passes():
    assert True
''',
    # Parametrize ids that a parser splitting node ids or writing them out could trip on; two fail.
    "hostile-ids": '''"""Added to the suite: parametrize ids: unicode, ::, brackets, spaces, escapes, length."""

import pytest


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("caf\\u00e9", id="caf\\u00e9-\\u2713-\\u65e5\\u672c"),
        pytest.param("a::b", id="a::b"),
        pytest.param("[x]", id="[nested]-[brackets]"),
        pytest.param("  ", id="with spaces inside"),
        pytest.param("long", id="long-" + "x" * 240),
        pytest.param("dash", id="-"),
        pytest.param("nl", id="two\\nlines"),
    ],
)
def test_explicit_ids(value):
    assert value


@pytest.mark.parametrize(
    "text",
    ["line\\nbreak", "tab\\there", "esc\\x1b[31mred", "caf\\u00e9", "a::b", "x[1]", "back\\\\slash"],
)
def test_ids_from_values(text):
    assert text


@pytest.mark.parametrize("text", ["ok", "a::b fails", "caf\\u00e9 fails"])
def test_some_fail(text):
    assert "fails" not in text, text
''',
    # An error in setup_class, and a class-scoped fixture that errors: every test of each class errors at setup.
    "class-setup-errors": '''"""Added to the suite: setup_class raising, and a class-scoped fixture raising."""

import pytest


class TestSetupClassRaises:
    @classmethod
    def setup_class(cls):
        raise ConnectionError("database not reachable")

    def test_one(self):
        pass

    def test_two(self):
        pass

    def test_three(self):
        pass


@pytest.fixture(scope="class")
def broken_class_resource():
    raise RuntimeError("class resource could not be built")


@pytest.mark.usefixtures("broken_class_resource")
class TestClassFixtureRaises:
    def test_a(self):
        pass

    def test_b(self):
        pass


def test_after_the_classes():
    assert True
''',
    # Skipped whole at collection: pytest.skip(allow_module_level=True), and importorskip of a missing module.
    "module-skip": '''"""Added to the suite: a module that skips itself at collection."""

import pytest

pytest.skip("this module needs Windows", allow_module_level=True)


def test_never_collected():
    assert True
''',
    "importorskip": '''"""Added to the suite: a module that needs a module that is not installed."""

import pytest

missing = pytest.importorskip("a_module_that_is_not_installed", reason="the optional backend is not installed")


def test_never_collected():
    assert missing
''',
}


@dataclass(frozen=True)
class Case:
    """One pytest session of one project's suite."""

    project: str
    situation: str
    args: list[str]
    notes: str
    inject: dict[str, str] = field(default_factory=dict)  # path in the unpacked sdist: key of INJECTED
    before: list[str] | None = None  # a session run first in the same directory, its reports dropped
    sigint: bool = False  # send SIGINT to pytest once the injected test is waiting for it
    plugins: tuple[str, ...] = ()  # keys of PLUGINS installed for this case


# name: the case, with a comment on why it is here
CASES: dict[str, Case] = {
    # 1. Plain green runs.
    # A small suite, all passing.
    "iniconfig-green": Case("iniconfig", "green", [*NO_CACHE, "testing"], "all passing, no skips"),
    # Passes, skips and a warning in the summary line.
    "six-green": Case(
        "six",
        "green",
        [*NO_CACHE, "-k", SIX_SUBSET, "test_six.py"],
        "passes with 2 skips and 1 warning; -k leaves out most of the parametrized moves, to keep the reports small",
    ),
    # unittest subTest: with -q pytest counts the passing subtests on its line (without -q it does not).
    "cachetools-green-subtests": Case(
        "cachetools",
        "green",
        [*NO_CACHE, "-q", "tests/test_lru.py", "tests/test_threading.py"],
        "all passing; -q, so the line is not framed and counts 'subtests passed' (unittest subTest)",
    ),
    # The suite's config turns on live logging and turns warnings into errors; a skip for 3.14.
    "toolz-green": Case(
        "toolz",
        "green",
        [*NO_CACHE, "toolz/tests/test_functoolz.py", "toolz/tests/test_dicttoolz.py"],
        "passes with one skip; the project's config sets log_cli_level and filterwarnings=error",
    ),
    "boltons-xdist-green": Case(
        "boltons",
        "xdist-green",
        [*NO_CACHE, "-n", "2", "tests/test_iterutils.py", "tests/test_strutils.py"],
        "all passing under xdist -n 2",
    ),
    # 2. Reruns with pytest-rerunfailures.
    # A flaky test passes on its rerun; a failing one fails all three attempts.
    "attrs-reruns": Case(
        "attrs",
        "reruns",
        [*NO_CACHE, "--reruns", "2", "tests/test_funcs.py", "tests/test_zz_flaky.py"],
        "tests/test_zz_flaky.py added: one test fails on its first attempt only, one on every attempt",
        {"tests/test_zz_flaky.py": "flaky"},
    ),
    "boltons-reruns": Case(
        "boltons",
        "reruns",
        [*NO_CACHE, "--reruns", "2", "tests/test_iterutils.py", "tests/test_strutils.py", "tests/test_zz_flaky.py"],
        "tests/test_zz_flaky.py added: one test fails on its first attempt only, one on every attempt",
        {"tests/test_zz_flaky.py": "flaky"},
    ),
    # Setup errors are rerun too (rerunError in JUnit).
    "packaging-reruns-setup-errors": Case(
        "packaging",
        "reruns-setup-errors",
        [*NO_CACHE, "-o", "addopts=", "--reruns", "2", "tests/test_elffile.py", "tests/test_zz_setup_errors.py"],
        "tests/test_zz_setup_errors.py added: a fixture that errors in setup once, one that always does, "
        "one that errors in teardown, which is rerun too and whose passing call counts as passed on each attempt; "
        "-o addopts= (see packaging-json-report-crash)",
        {"tests/test_zz_setup_errors.py": "setup-errors"},
    ),
    # Reruns under xdist: the rerun may land on the other worker.
    "iniconfig-reruns-xdist": Case(
        "iniconfig",
        "reruns-xdist",
        [*NO_CACHE, "-n", "2", "--reruns", "2", "testing"],
        "testing/test_zz_flaky.py added: one test fails on its first attempt only, one on every attempt; xdist -n 2",
        {"testing/test_zz_flaky.py": "flaky"},
    ),
    # 3. Stopping early: -x and --maxfail.
    # attrs unpacked and not installed: its metadata tests fail, four of them.
    "attrs-exitfirst": Case(
        "attrs",
        "exitfirst",
        [*NO_CACHE, "-x", "tests/test_abc.py", "tests/test_packaging.py", "tests/test_funcs.py"],
        "real failures: attrs is not installed, so its metadata tests fail; -x stops at the first",
    ),
    "attrs-maxfail": Case(
        "attrs",
        "maxfail",
        [*NO_CACHE, "--maxfail=2", "tests/test_abc.py", "tests/test_packaging.py", "tests/test_funcs.py"],
        "real failures: attrs is not installed, so its metadata tests fail; --maxfail=2 stops at the second",
    ),
    "idna-exitfirst": Case(
        "idna",
        "exitfirst",
        [*NO_CACHE, "-x", "tests/test_idna.py", "tests/test_zz_failures.py"],
        "tests/test_zz_failures.py added: three failures; -x stops at the first",
        {"tests/test_zz_failures.py": "failures"},
    ),
    "boltons-maxfail": Case(
        "boltons",
        "maxfail",
        [*NO_CACHE, "--maxfail=2", "tests/test_strutils.py", "tests/test_zz_failures.py"],
        "tests/test_zz_failures.py added: three failures; --maxfail=2 stops at the second",
        {"tests/test_zz_failures.py": "failures"},
    ),
    # 4. Sessions cut short from inside or outside.
    "cachetools-pytest-exit": Case(
        "cachetools",
        "pytest-exit",
        [*NO_CACHE, "tests/test_lru.py", "tests/test_zz_exit.py"],
        "tests/test_zz_exit.py added: a test calls pytest.exit(reason); pytest exits 2",
        {"tests/test_zz_exit.py": "exit"},
    ),
    # pytest.exit(returncode=0) after a failure: the exit status says success.
    "iniconfig-pytest-exit-zero": Case(
        "iniconfig",
        "pytest-exit-returncode-0",
        [*NO_CACHE, "testing"],
        "testing/test_zz_exit.py added: a test fails, the next calls pytest.exit(reason, returncode=0); pytest exits 0",
        {"testing/test_zz_exit.py": "exit-zero"},
    ),
    "toolz-keyboard-interrupt": Case(
        "toolz",
        "keyboard-interrupt",
        [*NO_CACHE, "toolz/tests/test_dicttoolz.py", "toolz/tests/test_zz_interrupt.py"],
        "toolz/tests/test_zz_interrupt.py added: a test raises KeyboardInterrupt",
        {"toolz/tests/test_zz_interrupt.py": "keyboard-interrupt"},
    ),
    "more-itertools-sigint": Case(
        "more-itertools",
        "sigint",
        [*NO_CACHE, "-k", MORE_SUBSET, "tests/test_recipes.py", "tests/test_zz_sigint.py"],
        "tests/test_zz_sigint.py added: it waits while SIGINT is sent to the pytest process from outside; "
        "-k keeps a few classes, to keep the reports small",
        {"tests/test_zz_sigint.py": "sigint"},
        sigint=True,
    ),
    # Without xdist a SIGKILL takes pytest itself: no JSON, no XML, only the report-log lines written.
    "idna-killed": Case(
        "idna",
        "killed",
        [*NO_CACHE, "tests/test_idna.py", "tests/test_zz_crash.py"],
        "tests/test_zz_crash.py added: a test SIGKILLs pytest itself; only the report log is left, cut short; "
        "no summary line; 137 is what a runner's shell reports for the signal",
        {"tests/test_zz_crash.py": "crash"},
    ),
    # 5. xdist with a worker killed.
    "more-itertools-xdist-crash": Case(
        "more-itertools",
        "xdist-crash",
        [*NO_CACHE, "-n", "2", "-k", MORE_SUBSET, "tests/test_recipes.py", "tests/test_zz_crash.py"],
        "tests/test_zz_crash.py added: a test SIGKILLs its xdist worker, which is replaced; "
        "-k keeps a few classes, to keep the reports small",
        {"tests/test_zz_crash.py": "crash"},
    ),
    "idna-xdist-crash": Case(
        "idna",
        "xdist-crash",
        [*NO_CACHE, "-n", "2", "tests/test_idna.py", "tests/test_idna_codec.py", "tests/test_zz_crash.py"],
        "tests/test_zz_crash.py added: a test SIGKILLs its xdist worker, which is replaced",
        {"tests/test_zz_crash.py": "crash"},
    ),
    # pytest-rerunfailures reruns a test whose worker crashed.
    "boltons-xdist-crash-reruns": Case(
        "boltons",
        "xdist-crash-reruns",
        [*NO_CACHE, "-n", "2", "--reruns", "1", "tests/test_strutils.py", "tests/test_zz_crash.py"],
        "tests/test_zz_crash.py added: a test SIGKILLs its xdist worker on every attempt; --reruns 1",
        {"tests/test_zz_crash.py": "crash"},
    ),
    # 6. A module that does not compile.
    "iniconfig-syntax-error": Case(
        "iniconfig",
        "collection-error",
        [*NO_CACHE, "testing"],
        "testing/test_zz_syntax.py added: SyntaxError on its line 7; collection is interrupted, nothing runs",
        {"testing/test_zz_syntax.py": "syntax-error"},
    ),
    "iniconfig-syntax-error-continue": Case(
        "iniconfig",
        "collection-error-continue",
        [*NO_CACHE, "--continue-on-collection-errors", "testing"],
        "testing/test_zz_syntax.py added: SyntaxError on its line 7; the other modules run",
        {"testing/test_zz_syntax.py": "syntax-error"},
    ),
    "six-syntax-error": Case(
        "six",
        "collection-error",
        [*NO_CACHE, "test_six.py", "test_zz_syntax.py"],
        "test_zz_syntax.py added: SyntaxError on its line 7; collection is interrupted, nothing runs",
        {"test_zz_syntax.py": "syntax-error"},
    ),
    "toolz-syntax-error-continue": Case(
        "toolz",
        "collection-error-continue",
        [
            *NO_CACHE,
            "--continue-on-collection-errors",
            "toolz/tests/test_dicttoolz.py",
            "toolz/tests/test_zz_syntax.py",
        ],
        "toolz/tests/test_zz_syntax.py added: SyntaxError on its line 7; the other modules run",
        {"toolz/tests/test_zz_syntax.py": "syntax-error"},
    ),
    # 7. The cache (--lf after a session with failures) and plugins disabled.
    "six-lf": Case(
        "six",
        "last-failed",
        ["--lf", "test_six.py", "test_zz_failures.py"],
        "test_zz_failures.py added (three failures); a first session without --lf ran in the same directory "
        "with the cache on, this one reruns only its failures",
        {"test_zz_failures.py": "failures"},
        before=["test_six.py", "test_zz_failures.py"],
    ),
    "idna-lf-none-failed": Case(
        "idna",
        "last-failed-none",
        ["--lf", "tests/test_idna.py"],
        "a first green session ran in the same directory with the cache on: --lf finds no failures and runs all",
        before=["tests/test_idna.py"],
    ),
    # Built-in plugins disabled: the ones packaging's own addopts disable, bar legacypath, and warnings.
    "packaging-plugins-disabled": Case(
        "packaging",
        "plugins-disabled",
        [*NO_CACHE, "-o", "addopts=", *PACKAGING_OFF, "-p", "no:warnings", *PACKAGING_SUBSET],
        "green; the project's addopts replaced by the -p no: it passes (less no:legacypath) and -p no:warnings",
    ),
    # The project's own addopts as they are: -p no:legacypath takes away Session.fspath, which
    # pytest-json-report 1.5.0 reads when the session ends.
    "packaging-json-report-crash": Case(
        "packaging",
        "plugin-crash",
        [*NO_CACHE, *PACKAGING_SUBSET],
        "all tests pass, but the project's addopts carry -p no:legacypath and pytest-json-report fails at session "
        "end (AttributeError: Session.fspath): a traceback, no summary line, exit 1",
    ),
    # 8. Expected failures, teardown errors, subtests.
    "attrs-xfail": Case(
        "attrs",
        "xfail",
        [*NO_CACHE, "tests/test_funcs.py", "tests/test_zz_xfail.py"],
        "tests/test_zz_xfail.py added: xfail strict and not, passing and failing, wrong exception, run=False, "
        "imperative; the project sets xfail_strict = true",
        {"tests/test_zz_xfail.py": "xfail"},
    ),
    "toolz-teardown-errors": Case(
        "toolz",
        "teardown-errors",
        [*NO_CACHE, "toolz/tests/test_dicttoolz.py", "toolz/tests/test_zz_teardown.py"],
        "toolz/tests/test_zz_teardown.py added: teardown errors after a pass, a failure and a skip; a setup error",
        {"toolz/tests/test_zz_teardown.py": "teardown-errors"},
    ),
    "cachetools-subtests": Case(
        "cachetools",
        "subtests",
        [*NO_CACHE, "tests/test_lru.py", "tests/test_zz_subtests.py"],
        "tests/test_zz_subtests.py added: pytest's subtests fixture, subtests passing, failing and skipped",
        {"tests/test_zz_subtests.py": "subtests"},
    ),
    "toolz-skip-then-teardown": Case(
        "toolz",
        "skip-then-teardown",
        [*NO_CACHE, "toolz/tests/test_dicttoolz.py", "toolz/tests/test_zz_skip_teardown.py"],
        "toolz/tests/test_zz_skip_teardown.py added: a module fixture fails as it closes, after the module's last "
        "test was skipped in setup",
        {"toolz/tests/test_zz_skip_teardown.py": "skip-then-teardown"},
    ),
    "toolz-xfail-then-teardown": Case(
        "toolz",
        "xfail-then-teardown",
        [*NO_CACHE, "toolz/tests/test_dicttoolz.py", "toolz/tests/test_zz_xfail_teardown.py"],
        "toolz/tests/test_zz_xfail_teardown.py added: a fixture fails as it closes after an xfail test that "
        "fails and three that pass: two strict unexpected passes (toolz sets xfail_strict) and one marked strict=False",
        {"toolz/tests/test_zz_xfail_teardown.py": "xfail-then-teardown"},
    ),
    "toolz-timeout": Case(
        "toolz",
        "timeout",
        [*NO_CACHE, "toolz/tests/test_dicttoolz.py", "toolz/tests/test_zz_timeout.py"],
        "toolz/tests/test_zz_timeout.py added: pytest-timeout fails one test by its signal method, then its "
        "thread method ends the process at the next (os._exit(1)): only the report log is left, cut short",
        {"toolz/tests/test_zz_timeout.py": "timeout"},
    ),
    "cachetools-unittest-subtest-failure": Case(
        "cachetools",
        "unittest-subtest-failure",
        [*NO_CACHE, "-rA", "tests/test_lru.py", "tests/test_zz_unittest_subtests.py"],
        "tests/test_zz_unittest_subtests.py added: a unittest test whose only failure is a subTest; -rA, so that "
        "the summary shows pytest counting the test itself passed",
        {"tests/test_zz_unittest_subtests.py": "unittest-subtest-failure"},
    ),
    "cachetools-unittest-subtest-skip": Case(
        "cachetools",
        "unittest-subtest-skip",
        [*NO_CACHE, "-rA", "tests/test_lru.py", "tests/test_zz_unittest_subtest_skip.py"],
        "tests/test_zz_unittest_subtest_skip.py added: a unittest test one of whose subtests skips",
        {"tests/test_zz_unittest_subtest_skip.py": "unittest-subtest-skip"},
    ),
    "cachetools-subtests-quiet": Case(
        "cachetools",
        "subtests-quiet",
        [*NO_CACHE, "-q", "tests/test_lru.py", "tests/test_zz_subtests.py"],
        "as cachetools-subtests, with -q: the line is not framed and counts the subtests by outcome",
        {"tests/test_zz_subtests.py": "subtests"},
    ),
    # 9. Other plugins and options that change what a session collects, runs or counts.
    # Doctests collected from modules: node ids such as toolz/dicttoolz.py::toolz.dicttoolz.merge.
    "toolz-doctest-modules": Case(
        "toolz",
        "doctest-modules",
        [*NO_CACHE, "--doctest-modules", "toolz/dicttoolz.py", "toolz/tests/test_zz_doctest.py"],
        "toolz/tests/test_zz_doctest.py added: one failing doctest, one passing, one test; --doctest-modules on "
        "dicttoolz's own doctests too",
        {"toolz/tests/test_zz_doctest.py": "doctest"},
    ),
    # Stepwise: a first --sw session stops at the first failure; this one skips the tests that passed before
    # it (deselected) and stops at the same failure, with the stepwise plugin's own message.
    "idna-stepwise": Case(
        "idna",
        "stepwise",
        ["--sw", "tests/test_idna.py", "tests/test_zz_failures.py"],
        "tests/test_zz_failures.py added (three failures); a first --sw session ran in the same directory with the "
        "cache on and stopped at the first; this one starts there and stops there again",
        {"tests/test_zz_failures.py": "failures"},
        before=["--sw", "tests/test_idna.py", "tests/test_zz_failures.py"],
    ),
    # The flaky plugin reruns a test inside its own protocol, not as pytest-rerunfailures does.
    "boltons-flaky-plugin": Case(
        "boltons",
        "flaky-plugin",
        [*NO_CACHE, "tests/test_strutils.py", "tests/test_zz_flaky.py"],
        "tests/test_zz_flaky.py added: flaky's @flaky(max_runs=3) on a test that passes on its second run and on "
        "one that never passes",
        {"tests/test_zz_flaky.py": "flaky-plugin"},
        plugins=("flaky",),
    ),
    # pytest-repeat: each test three times, its node ids suffixed [1-3], [2-3], [3-3].
    "idna-repeat": Case(
        "idna",
        "repeat",
        [*NO_CACHE, "--count", "3", "tests/test_intranges.py", "tests/test_zz_repeat.py"],
        "tests/test_zz_repeat.py added: under pytest-repeat's --count 3, one test fails on its second repetition only",
        {"tests/test_zz_repeat.py": "repeat"},
        plugins=("pytest-repeat",),
    ),
    # --runxfail: the xfail marks and pytest.xfail() are ignored, so the expected failures fail.
    "attrs-runxfail": Case(
        "attrs",
        "runxfail",
        [*NO_CACHE, "--runxfail", "tests/test_funcs.py", "tests/test_zz_xfail.py"],
        "tests/test_zz_xfail.py added (as attrs-xfail), run with --runxfail",
        {"tests/test_zz_xfail.py": "xfail"},
    ),
    # Node ids with unicode (escaped by pytest), ::, brackets, spaces, escapes and 245 characters.
    "iniconfig-hostile-ids": Case(
        "iniconfig",
        "hostile-ids",
        [*NO_CACHE, "testing"],
        "testing/test_zz_hostile_ids.py added: parametrize ids, explicit and from values, with unicode, ::, "
        "brackets, spaces, a newline, a tab, an escape character, a backslash, 245 characters; two fail",
        {"testing/test_zz_hostile_ids.py": "hostile-ids"},
    ),
    # Class-level setup that fails: each test of the class is an error at setup.
    "cachetools-class-setup-errors": Case(
        "cachetools",
        "class-setup-errors",
        [*NO_CACHE, "tests/test_lru.py", "tests/test_zz_class_setup.py"],
        "tests/test_zz_class_setup.py added: setup_class raises in a class of three tests, a class-scoped fixture "
        "in a class of two",
        {"tests/test_zz_class_setup.py": "class-setup-errors"},
    ),
    # Modules skipped whole while they are collected: no test items, a skip each on pytest's line.
    "six-module-skip": Case(
        "six",
        "module-skip",
        [*NO_CACHE, "-k", SIX_SUBSET, "test_six.py", "test_zz_skip_module.py", "test_zz_importorskip.py"],
        "test_zz_skip_module.py (pytest.skip(allow_module_level=True)) and test_zz_importorskip.py "
        "(importorskip of a missing module) added; -k as six-green",
        {"test_zz_skip_module.py": "module-skip", "test_zz_importorskip.py": "importorskip"},
    ),
}

FRAMED = re.compile(r"^=+ (?P<line>.*?) in [\d.]+s(?: \([\d:]+\))? =+$")
BARE = re.compile(r"^(?P<line>(?:\d+ [\w ]+|no tests ran)(?:, \d+ [\w ]+)*) in [\d.]+s(?: \([\d:]+\))?$")  # -q


def fetch(requirement: str, into: Path) -> Path:
    into.mkdir(parents=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps", requirement,
         "-d", str(into)],
        check=True,
    )  # fmt: skip
    archive = next(into.glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return next(p for p in into.iterdir() if p.is_dir())


def summary_of(output: str) -> str:
    for row in reversed(output.splitlines()):
        match = FRAMED.match(row) or BARE.match(row)
        if match:
            return match["line"]
    return ""


def counts_of(line: str) -> dict[str, int]:
    words = {"error": "errors", "warning": "warnings"}
    return {
        words.get(word, word): int(n) for n, word in re.findall(r"(\d+) ([a-z]+(?: passed| failed| skipped)?)", line)
    }


class Scrub:
    """Rewrites the generating machine's paths to a GitHub runner's."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = sorted(pairs, key=lambda pair: -len(pair[0]))  # the longest, most specific, first

    def __call__(self, text: str) -> str:
        for old, new in self.pairs:
            text = text.replace(old, new)
        return re.sub(r'hostname="[^"]*"', 'hostname="runner"', text)


def without_machine(text: str) -> str:
    """A CTRF report without the kernel release and version of the machine that wrote it."""
    document = json.loads(text)
    environment = document.get("results", {}).get("environment", {})
    for key in CTRF_MACHINE:
        environment.pop(key, None)
    return json.dumps(document, indent=4) + "\n"


def session(venv: Path, work: Path, env: dict[str, str], args: list[str], sigint: bool) -> tuple[int, str]:
    command = [str(venv / "bin" / "python"), "-m", "pytest", *args]
    output = work.parent / f"{work.name}.out"
    with output.open("w") as sink:
        proc = subprocess.Popen(command, cwd=work, env=env, stdout=sink, stderr=subprocess.STDOUT)
        if sigint:
            marker = next(work.rglob("test_zz_sigint.py")).with_name("waiting-for-sigint")
            deadline = time.monotonic() + TIMEOUT
            while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=TIMEOUT)
    return (128 - status if status < 0 else status), output.read_text(encoding="utf-8")


def build(name: str, case: Case, venv: Path, sdists: dict[str, Path], temp: Path) -> str:
    requirement, source = PROJECTS[case.project]
    work = temp / "run" / name / case.project  # named as the checkout would be: its name is a keyword
    shutil.copytree(sdists[case.project], work)
    for path, key in case.inject.items():
        (work / path).write_text(INJECTED[key], encoding="utf-8")
    tmp, home = temp / "tmp" / name, temp / "home" / name
    tmp.mkdir(parents=True)
    home.mkdir(parents=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(work / source),
        "PYTHONHASHSEED": "0",
        "TMPDIR": str(tmp),
        "HOME": str(home),
        "USER": "runner",
        "LOGNAME": "runner",
        "LANG": "C.UTF-8",
    }
    if case.before is not None:
        session(venv, work, env, case.before, sigint=False)
    args = [*case.args, *REPORT_ARGS]
    status, output = session(venv, work, env, args, case.sigint)
    scrub = Scrub([
        (str(work), RUNNER_ROOT.format(name=case.project)),
        (str(tmp), "/tmp"),
        (str(home), RUNNER_HOME),
        (str(venv), RUNNER_PYTHON),
        (sys.base_prefix, RUNNER_PYTHON),
    ])  # fmt: skip
    out = HERE / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    written = []
    for report in REPORTS:
        if (work / report).is_file():
            text = scrub((work / report).read_text(encoding="utf-8"))
            if report == "report.ctrf.json":
                text = without_machine(text)
            (out / report).write_text(text, encoding="utf-8")
            written.append(report)
    rows = scrub(output).splitlines()
    (out / "terminal.txt").write_text("\n".join(rows[-TERMINAL_LINES:]) + "\n", encoding="utf-8")
    line = summary_of(output)
    expected = {
        "project": requirement,
        "situation": case.situation,
        "args": args,
        "pytest_summary": line,
        "exit_status": status,
        "counts": counts_of(line),
        "subtests_failed": sum(row.startswith("SUBFAILED") for row in rows),  # pytest's "failed" counts these too
        # Tests pytest counts passed beside their SUBFAILED rows (unittest's subTest; with -rA only).
        "subtest_parents_passed": len(_ids_of(rows, "SUBFAILED") & _ids_of(rows, "PASSED ")),
        "reports": written,
        "notes": case.notes,
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    return f"{name}: exit {status}: {line or '(no summary line)'}"


def _ids_of(rows: list[str], prefix: str) -> set[str]:
    """The node ids of the short summary's rows that start with `prefix` (`PASSED tests/a.py::t - ...`)."""
    return {row.split(" ", 1)[1].split(" - ")[0] for row in rows if row.startswith(prefix) and " " in row}


def main(only: list[str]) -> None:
    unknown = sorted(set(only) - set(CASES))
    if unknown:
        sys.exit(f"unknown cases: {', '.join(unknown)}")
    chosen = {name: case for name, case in CASES.items() if not only or name in only}
    if not only:  # the whole corpus: drop cases no longer in the table
        for stale in HERE.iterdir():
            if (stale / "expected.json").is_file() and stale.name not in CASES:
                shutil.rmtree(stale)
    with tempfile.TemporaryDirectory() as name:
        temp = Path(name)
        venvs: dict[tuple[str, ...], Path] = {}
        for plugins in sorted({case.plugins for case in chosen.values()}):
            venvs[plugins] = temp / "-".join(("venv", *plugins))
            subprocess.run([sys.executable, "-m", "venv", str(venvs[plugins])], check=True)
            tools = [*TOOLS, *(PLUGINS[plugin] for plugin in plugins)]
            subprocess.run([venvs[plugins] / "bin" / "python", "-m", "pip", "install", "--quiet", *tools], check=True)
        projects = sorted({case.project for case in chosen.values()})
        sdists = {project: fetch(PROJECTS[project][0], temp / "sdist" / project) for project in projects}
        for name, case in chosen.items():
            print(build(name, case, venvs[case.plugins], sdists, temp), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
