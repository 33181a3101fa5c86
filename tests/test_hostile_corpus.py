"""A hostile corpus for the corpus side (issue 19, items 3, 5, 6, 7 and the corpus cases of 9/10):
a file whose index lies about its size, link loops, a worker that crashes, a kernel that is
killed, careless arguments and incomplete tables. Each case failed before its fix (a 16 GB
allocation, 41 rows or a glob that never returns, bystanders failed with BrokenProcessPool,
workers left running for ever, a bare KeyError/TypeError, a misleading answer); the cases that
behaved well are kept at the end."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mimo_nb as mn
from mimo_nb.corpus import expand_source
from mimo_nb.errors import LimitError

from video_fixtures import clip_dir, clips  # noqa: F401  (fixtures)

pytestmark = pytest.mark.timeout(120)

REPO = Path(mn.__file__).resolve().parents[1]  # where the mimo_nb under test lives
MEMORY_LIMIT = 2 * 2**30  # the address space a hostile open runs in: far below its 16 GB ask


@pytest.fixture(scope="module")
def clip(clips):
    return clips("hostile-corpus.mp4", duration=1.0, width=64, height=48, audio=False)


def _run_python(code: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


# ---- Item 3: a file whose index declares 2^31 frames -----------------------------------------


def _box(data: bytes, path: tuple[bytes, ...]) -> int:
    """The offset of the MP4 box reached by ``path`` (e.g. moov/trak/.../stts), by its headers."""
    start, end = 0, len(data)
    for kind in path:
        while start + 8 <= end:
            size, name = struct.unpack(">I4s", data[start : start + 8])
            if name == kind:
                break
            start += size
        else:
            raise AssertionError(f"no {kind!r} box")
        if kind != path[-1]:
            start, end = start + 8, start + size
    return start


STTS = (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts")


def _claiming_frames(source: Path, target: Path, count: int) -> Path:
    """A copy of ``source`` whose time-to-sample table says its first run holds ``count`` frames."""
    data = bytearray(source.read_bytes())
    stts = _box(data, STTS)
    assert struct.unpack(">I", data[stts + 12 : stts + 16])[0] == 1  # one run: every frame alike
    struct.pack_into(">I", data, stts + 16, count)  # the run's sample count
    target.write_bytes(bytes(data))
    return target


OPEN_UNDER_A_MEMORY_LIMIT = textwrap.dedent(
    """
    import dataclasses, json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
    from concurrent.futures import ThreadPoolExecutor
    import mimo_nb as mn
    from mimo_nb.media.decode import probe

    def outcome(call):
        try:
            call()
        except MemoryError as exc:
            return {"type": "MemoryError", "message": str(exc)}
        except mn.MimoError as exc:
            return {"type": type(exc).__name__, "reason": getattr(exc, "reason", None),
                    "message": str(exc)}
        return {"type": None}

    hostile, honest = sys.argv[1], sys.argv[3]
    results = {"open": outcome(lambda: mn.Video.open(hostile))}
    with ThreadPoolExecutor(1) as pool:
        row = mn.Corpus.scan([hostile], executor=pool, progress=False).to_pandas().iloc[0]
    results["scan"] = {"type": row["error_type"], "reason": row["error_reason"]}
    # A Probe whose frame count was changed after probing: extending its table is bounded too.
    lying = dataclasses.replace(probe(honest), frame_count=2**31)
    results["frame_table"] = outcome(lying.frame_table)
    print(json.dumps(results))
    """
)


def test_a_file_declaring_two_billion_frames_is_refused_before_allocating(clip, tmp_path):
    hostile = _claiming_frames(clip, tmp_path / "liar.mp4", 2**31)
    assert hostile.stat().st_size < 64_000  # a small file asking for 2^31 frames' arrays
    done = _run_python(OPEN_UNDER_A_MEMORY_LIMIT, str(hostile), str(MEMORY_LIMIT), str(clip))
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["open"]["type"] == "VideoError", results
    assert results["open"]["reason"] == "truncated"
    assert "of the 2,147,483,648 frames the file lists" in results["open"]["message"]
    assert "Re-export or re-download" in results["open"]["message"]
    assert results["scan"] == {"type": "VideoError", "reason": "truncated"}  # one row, no crash
    assert results["frame_table"]["type"] == "VideoError", results
    assert "decode.probe(path)" in results["frame_table"]["message"]


def test_a_file_declaring_a_few_more_frames_than_it_holds_still_opens(clip, tmp_path):
    """The bound refuses liars, not files cut a little short: their missing frames are repeats."""
    frames = mn.Video.open(clip).native_frame_count
    short = _claiming_frames(clip, tmp_path / "short.mp4", frames + frames // 4)
    video = mn.Video.open(short)
    assert video.native_frame_count == frames + frames // 4
    assert video._info.readable_frames == frames


# ---- Item 5: link loops and links to files -----------------------------------------------------


def _tree_with_loops(root: Path, loops: int) -> Path:
    """a.mp4, sub/b.mp4 (empty files: listing is what is tested), a link to a.mp4, and ``loops``
    links back up the tree."""
    (root / "sub").mkdir(parents=True)
    (root / "a.mp4").write_bytes(b"")
    (root / "sub" / "b.mp4").write_bytes(b"")
    (root / "again.mp4").symlink_to("a.mp4")
    if loops >= 1:
        (root / "sub" / "up").symlink_to("..")
    if loops >= 2:
        (root / "self").symlink_to(Path("..") / root.name)
    return root


@pytest.mark.parametrize("loops", [1, 2])
def test_a_glob_lists_each_file_once_and_ends_on_link_loops(tmp_path, loops):
    root = _tree_with_loops(tmp_path / "videos", loops)
    sources, names, _, _ = expand_source(f"{root}/**/*.mp4")
    assert sources == [str(root / "a.mp4"), str(root / "sub" / "b.mp4")]
    assert names == ["a.mp4", "b.mp4"]
    corpus = mn.Corpus.scan(f"{root}/**/*.mp4", executor=ThreadPoolExecutor(2), progress=False)
    assert len(corpus) == 2  # one row per real file: a forecast is not multiplied by the loops


def test_a_folder_scan_lists_a_linked_file_once(tmp_path):
    root = _tree_with_loops(tmp_path / "videos", loops=2)
    sources, names, _, _ = expand_source(root)
    assert names == ["a.mp4", "sub/b.mp4"]  # again.mp4 is a.mp4; links to folders not followed
    assert sources == [str(root / "a.mp4"), str(root / "sub" / "b.mp4")]


def test_a_glob_matches_what_glob_matches_where_there_are_no_links(tmp_path):
    import glob

    from mimo_nb.corpus._sources import _glob_files

    root = tmp_path / "t"
    for name in (
        "1.mp4",
        "a/2.mp4",
        "a/b/3.MP4",
        "a/b/c/4.mp4",
        ".h/5.mp4",
        ".h/x/6.mp4",
        "a/.7.mp4",
        "d/8.mov",
        "a/b/c/9.txt",
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    (root / "folder.mp4").mkdir()
    patterns = [
        "**/*.mp4",
        "**",
        "*/*",
        "**/.*",
        ".h/**/*.mp4",
        "a/**/c/*",
        "**/*.m??",
        "[ad]/*",
        "a/b/*.MP4",
        "*.mp4",
        "*/",
        "**/",
    ]
    for pattern in patterns:
        expected = sorted(
            Path(p) for p in glob.glob(f"{root}/{pattern}", recursive=True) if Path(p).is_file()
        )
        assert _glob_files(f"{root}/{pattern}") == expected, pattern


# ---- Item 6: map, when an item crashes its worker --------------------------------------------


def _duration_or_crash(video: mn.Video) -> float:
    """A map task: ends its worker process on videos named crash* (as a segfault would)."""
    if video.name.startswith("crash"):
        os._exit(1)
    time.sleep(0.2)  # the others are still running when the crash breaks the pool
    return video.duration


def test_map_fails_only_the_item_that_crashes_its_worker(clip, tmp_path):
    names = ["crash.mp4", *(f"v{k}.mp4" for k in range(5))]
    for name in names:
        (tmp_path / name).write_bytes(clip.read_bytes())
    corpus = mn.Corpus.scan(tmp_path, executor=ThreadPoolExecutor(2), progress=False)
    corpus.executor = None  # map on the session's process pool, where a crash breaks the pool
    results = {r.name: r for r in corpus.map(_duration_or_crash, progress=False)}
    assert sorted(results) == names
    crashed = results.pop("crash.mp4")
    assert crashed.error_type == "BrokenProcessPool" and "worker" in crashed.error
    assert {name: (r.error_type, r.value) for name, r in results.items()} == {
        name: (None, 1.0) for name in names[1:]
    }
    again = {r.name: r.ok for r in corpus[1:].map(_duration_or_crash, progress=False)}
    assert again == dict.fromkeys(names[1:], True)  # the session's pool was replaced


# ---- Item 7: a killed kernel takes its workers with it ---------------------------------------

KILLED_KERNEL = textwrap.dedent(
    """
    import socket, sys, threading, time


    def main():
        from multiprocessing import forkserver, resource_tracker

        import mimo_nb as mn
        import mimo_nb.corpus._workers as workers

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)  # connections wait in the backlog, never answered: slow items
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/slow.mp4"
        scan = lambda: mn.Corpus.scan([url, url], progress=False, chunk_size=1, timeout=600)
        threading.Thread(target=scan, daemon=True).start()
        while workers._shared_pool is None or len(workers._shared_pool._processes) < 2:
            time.sleep(0.05)
        time.sleep(0.5)  # the workers are downloading
        helpers = [forkserver._forkserver._forkserver_pid, resource_tracker._resource_tracker._pid]
        print(*workers._shared_pool._processes, *[p for p in helpers if p], flush=True)
        time.sleep(600)


    if __name__ == "__main__":
        main()
    """
)


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie nobody reaps has exited too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_process_that_scanned_is_killed(tmp_path):
    script = tmp_path / "kernel.py"
    script.write_text(KILLED_KERNEL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    kernel = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    pids: list[int] = []
    try:
        assert kernel.stdout is not None
        pids = [int(p) for p in kernel.stdout.readline().split()]
        assert len(pids) >= 3, pids  # two workers, the forkserver (and the resource tracker)
        assert not any(_gone(pid) for pid in pids)
        kernel.send_signal(signal.SIGKILL)  # as the OOM killer does: no cleanup runs
        kernel.wait(timeout=30)
        deadline = time.monotonic() + 20  # a bound on the wait, not a measurement
        while time.monotonic() < deadline and not all(_gone(pid) for pid in pids):
            time.sleep(0.1)
        assert [pid for pid in pids if not _gone(pid)] == []
    finally:
        kernel.kill()
        kernel.wait(timeout=30)
        for pid in pids:  # only what this test started
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


# ---- Items 9/10: careless arguments and incomplete tables ------------------------------------


@pytest.fixture(scope="module")
def corpus(clip, tmp_path_factory):
    root = tmp_path_factory.mktemp("two")
    for name in ("a.mp4", "b.mp4"):
        (root / name).write_bytes(clip.read_bytes())
    return mn.Corpus.scan(root, executor=ThreadPoolExecutor(2), progress=False)


def test_a_position_gives_a_one_item_corpus(corpus):
    assert repr(corpus[0]) == f"<Corpus 1 items (1 probed, 0 failed) from {corpus.source} (subset)>"
    assert corpus[-1].to_pandas()["name"].tolist() == ["b.mp4"]
    assert corpus[np.int64(1)].to_pandas()["name"].tolist() == ["b.mp4"]
    assert len(corpus[[]]) == 0 and len(corpus[[True, False]]) == 1


@pytest.mark.parametrize(
    "key, words",
    [
        (2, ["position 2", "2 items"]),
        (-3, ["position -3"]),
        ("a.mp4", ["str", "position"]),
        (1.5, ["float"]),
        (None, ["NoneType"]),
        (True, ["bool"]),
        ([True], ["boolean mask of 2"]),
    ],
)
def test_a_bad_key_is_a_limit_error(corpus, key, words):
    with pytest.raises(LimitError) as caught:
        corpus[key]
    for word in words:
        assert word in str(caught.value)


def test_a_missing_path_in_a_list_is_a_row_and_a_non_path_is_refused(clip):
    table = mn.Corpus.scan(
        [clip, None, float("nan")], executor=ThreadPoolExecutor(1), progress=False
    ).to_pandas()
    assert table["duration"].tolist()[0] == 1.0 and table["error_type"].tolist()[1:] == [
        "LimitError",
        "LimitError",
    ]
    assert table["error"].str.contains("no path").tolist()[1:] == [True, True]
    with pytest.raises(LimitError, match=r"item 1 of the list is 5 \(int\)"):
        mn.Corpus.scan([clip, 5], progress=False)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(chunk_size=-1), ["chunk_size", "positive"]),
        (dict(chunk_size=0), ["chunk_size"]),
        (dict(chunk_size=2.5), ["chunk_size"]),
        (dict(timeout=0), ["timeout", "positive"]),
        (dict(timeout=-1), ["timeout"]),
        (dict(timeout=float("nan")), ["timeout"]),
        (dict(timeout=float("inf")), ["finite"]),
        (dict(timeout="10"), ["timeout"]),
    ],
)
def test_scan_refuses_bad_settings_before_probing(clip, kwargs, words):
    probed = []

    class Watching(ThreadPoolExecutor):
        def submit(self, *args, **kw):  # type: ignore[no-untyped-def, override]
            probed.append(args)
            return super().submit(*args, **kw)

    with pytest.raises(LimitError) as caught:
        mn.Corpus.scan([clip], executor=Watching(1), progress=False, **kwargs)
    for word in words:
        assert word in str(caught.value)
    assert probed == []  # refused once, not once per row


def test_max_fps_with_no_probed_video_says_there_is_nothing_to_forecast(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    failed = mn.Corpus.scan(tmp_path, executor=ThreadPoolExecutor(1), progress=False)
    empty = mn.Corpus.scan([], executor=ThreadPoolExecutor(1), progress=False)
    for corpus, words in ((failed, "1 items, 1 failed"), (empty, "0 items")):
        for budget in (dict(tokens=1000), dict(cost=1.0)):
            with pytest.raises(LimitError) as caught:
                corpus.max_fps(**budget)
            assert "nothing to forecast" in str(caught.value) and words in str(caught.value)


@pytest.mark.parametrize(
    "column, value",
    [("duration", math.nan), ("duration", -1.0), ("duration", math.inf), ("width", None)],
)
def test_a_table_row_without_usable_numbers_is_flagged_by_name(corpus, column, value):
    table = corpus.to_pandas()
    table[column] = table[column].astype("object")
    table.loc[1, column] = value
    flagged = mn.Corpus.from_pandas(table)
    assert repr(flagged).endswith("(1 probed, 1 failed) from a DataFrame>")
    failure = flagged.failures().iloc[0]
    assert failure["name"] == "b.mp4" and failure["error_reason"] == "incomplete"
    assert column in failure["error"] and table.loc[1, "path"] in failure["error"]
    forecast = flagged.forecast(fps=[1, 2])
    assert forecast.videos == 1 and forecast.excluded == 1
    assert forecast.to_pandas()["prompt_tokens"].tolist() == [
        int(corpus[[0]].video_tokens(f).sum()) for f in (1, 2)
    ]


# ---- What behaved well, kept ---------------------------------------------------------------


def test_pipes_sockets_and_folders_named_like_videos(clip, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    (tmp_path / "real.mp4").write_bytes(clip.read_bytes())
    os.mkfifo(tmp_path / "pipe.mp4")
    (tmp_path / "folder.mp4").mkdir()
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "sock.mp4"))
        for source in (tmp_path, f"{tmp_path}/*.mp4"):
            table = (
                mn.Corpus.scan(source, executor=ThreadPoolExecutor(2), progress=False)
                .to_pandas()
                .set_index("name")
            )
            listed = ["pipe.mp4", "real.mp4", "sock.mp4"] if source == tmp_path else ["real.mp4"]
            assert sorted(table.index) == listed  # a glob lists regular files only
            assert table.loc["real.mp4", "duration"] == 1.0
            for name in set(table.index) - {"real.mp4"}:
                assert table.loc[name, "error_reason"] == "not_a_video"
                assert "regular file" in table.loc[name, "error"]
    finally:
        server.close()


def test_ten_thousand_empty_files_are_ten_thousand_rows(tmp_path):
    for k in range(10_000):
        (tmp_path / f"{k:05}.mp4").write_bytes(b"")
    corpus = mn.Corpus.scan(tmp_path, executor=ThreadPoolExecutor(2), progress=False)
    table = corpus.to_pandas()
    assert len(table) == 10_000 and (table["error_reason"] == "empty").all()
    assert table["name"].tolist() == [f"{k:05}.mp4" for k in range(10_000)]


def test_a_manifest_with_missing_paths_and_duplicate_rows(clip, tmp_path):
    (tmp_path / "a.mp4").write_bytes(clip.read_bytes())
    pd.DataFrame({"path": ["a.mp4", None, "a.mp4"], "label": ["x", "y", "z"]}).to_csv(
        tmp_path / "list.csv", index=False
    )
    table = mn.Corpus.scan(
        tmp_path / "list.csv", executor=ThreadPoolExecutor(2), progress=False
    ).to_pandas()
    assert table["label"].tolist() == ["x", "y", "z"]  # one row per manifest row, in order
    assert table["duration"].tolist()[::2] == [1.0, 1.0]
    assert table["error_type"].isna().tolist() == [True, False, True]
    assert "no path" in table["error"][1]
