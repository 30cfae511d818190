"""The one rule for where a command may write (check_output) and the clean-up of a failed one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drnets.core import InputError
from drnets.io import check_output, is_solution_dir, removed_on_error


def _refused(*args, **kwargs) -> str:
    with pytest.raises(InputError) as e:
        check_output(*args, **kwargs)
    return str(e.value)


def test_never_on_inside_or_around_an_input(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.xy").write_text("1 2\n")
    for out, word in ((data, "is the input"), (data / "out", "inside the input"), (tmp_path, "holds the input")):
        for force in (False, True):
            msg = _refused(out, [data], "solution", force=force)
            assert word in msg and msg.startswith(f"{out}: --out: ")
    f = tmp_path / "lib.h5"
    f.write_bytes(b"x")
    assert "is the input" in _refused(f, [None, f])
    link = tmp_path / "link.h5"
    link.symlink_to(f)
    assert "is the input" in _refused(link, [f], option="OUT")
    assert check_output(tmp_path / "sibling", [f], "solution") == tmp_path / "sibling"


def test_files_and_folders_in_their_place(tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("x")
    assert "is a file, expected a folder" in _refused(f, [], "report")
    assert "is a folder, expected a file" in _refused(tmp_path, [], "file", option="--json")
    assert f"cannot be made: {f} is a file" in _refused(f / "sub" / "deeper", [], "synth")
    assert "regular file" in _refused("/dev/null", [], "file")
    assert check_output(f, [], "file") == f  # an existing file output is replaced (atomically)
    assert "empty path" in _refused("", [], "solution")


def test_non_empty_folders_need_force_unless_earlier_output(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x")
    for kind in ("solution", "report", "demo", "synth", "drnets"):
        assert "--force" in _refused(mine, [], kind)
        assert check_output(mine, [], kind, force=True) == mine
    empty = tmp_path / "empty"
    empty.mkdir()
    assert check_output(empty, [], "solution") == empty
    sol = tmp_path / "sol"
    sol.mkdir()
    (sol / "summary.json").write_text("{}")
    (sol / "solution.h5").write_bytes(b"")
    assert is_solution_dir(sol) and check_output(sol, [], "solution") == sol
    assert "--force" in _refused(sol, [], "report")  # an earlier output of another kind
    (mine / "report.html").write_text("<html>")
    assert check_output(mine, [], "report") == mine
    run = tmp_path / "killed"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"")  # a run stopped before it wrote anything else
    assert check_output(run, [], "solution") == run


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_place(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    assert "permission denied" in _refused(locked / "out", [], "solution")


def test_removed_on_error_takes_away_only_what_it_made(tmp_path):
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(InputError), removed_on_error(out):
        out.mkdir(parents=True)
        (out / "half.csv").write_text("x")
        raise InputError("bad")
    assert not (tmp_path / "a").exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "old.csv").write_text("old")
    with pytest.raises(OSError), removed_on_error(kept, kept / "new.csv"):
        (kept / "new.csv").write_text("new")
        raise PermissionError(13, "Permission denied")
    assert sorted(p.name for p in kept.iterdir()) == ["old.csv"]
    done = tmp_path / "done"
    with pytest.raises(KeyboardInterrupt), removed_on_error(done):  # an interruption keeps what was written
        done.mkdir()
        raise KeyboardInterrupt
    assert done.is_dir()
    with removed_on_error(tmp_path / "fine"):
        Path(tmp_path / "fine").mkdir()
    assert (tmp_path / "fine").is_dir()


def test_earlier_demo_and_synth_folders(tmp_path):
    demo = tmp_path / "demo"
    (demo / "library" / "truth").mkdir(parents=True)
    (demo / "library" / "library.h5").write_bytes(b"")
    (demo / "solution").mkdir()
    (demo / "report").mkdir()
    assert check_output(demo, [], "demo") == demo
    assert check_output(demo / "library", [], "synth") == demo / "library"
    (demo / "thesis.tex").write_text("x")  # something of the user's beside the demo's parts
    assert "--force" in _refused(demo, [], "demo")
    drn = tmp_path / "x.drnets"
    drn.mkdir()
    (drn / "XRD.npy").write_bytes(b"")
    assert check_output(drn, [], "drnets", option="OUT") == drn
