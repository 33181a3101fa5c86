"""Server profiles: every number below is worked by hand from the cited source's rules.

The sources (read with the search tools; our code is written from them, not copied):
- mimo-vl:        XiaomiMiMo/lmms-eval lmms_eval/models/model_utils/qwen/vision_process.py
- sglang-mimo-v2: sgl-project/sglang python/sglang/srt/multimodal/processors/mimo_v2.py
                  (+ qwen_vl.py's smart_nframes)
- qwen3-vl:       huggingface/transformers
                  src/transformers/models/qwen3_vl/video_processing_qwen3_vl.py
                  and processing_qwen3_vl.py (timestamps)
- mimo-api:       the vendor page (shared/spec/), as mimo_nb.core.tokens implements it

The clips (native frame count T at native rate r, frame size, requested fps):
  A  T=1800 at 30 fps (60 s), 1920x1080, fps 2
  B  T=300 at 29.97 fps (10.01 s), 1280x720, fps 1
  C  T=1439 at 23.976 fps (60.02 s), 640x360, fps 0.5
  D  T=50 at 12.5 fps (4 s), 320x240, fps 2
  E  T=24 at 24 fps (1 s), 1280x720, fps 0.1   (asks for 0.1 frame: below every minimum)
  F  T=3 at 30 fps (0.1 s), 1280x720, fps 2    (fewer frames in the file than the minimum)
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mimo_nb as mn
from mimo_nb.core import profiles, tokens
from mimo_nb.core.profiles import PROFILES
from mimo_nb.errors import LimitError, MimoError
from mimo_nb.media.video import Video

from video_fixtures import clip_dir, clips, counters  # noqa: F401  (fixtures)

CLIPS = {
    "A": dict(T=1800, r=30.0, w=1920, h=1080, fps=2.0),
    "B": dict(T=300, r=29.97, w=1280, h=720, fps=1.0),
    "C": dict(T=1439, r=23.976, w=640, h=360, fps=0.5),
    "D": dict(T=50, r=12.5, w=320, h=240, fps=2.0),
    "E": dict(T=24, r=24.0, w=1280, h=720, fps=0.1),
    "F": dict(T=3, r=30.0, w=1280, h=720, fps=2.0),
}


def plan(profile: str, clip: str, mute: bool = True, **changes: object) -> profiles.ProfilePlan:
    c = {**CLIPS[clip], **changes}
    return PROFILES[profile].plan(
        c["T"] / c["r"],
        c["w"],
        c["h"],
        c["fps"],
        native_fps=c["r"],
        native_frame_count=c["T"],
        mute=mute,
    )


# ---- mimo-vl: Xiaomi's lmms-eval (Qwen2.5-VL) --------------------------------------------------
# frames = floor(min(min(max(T/r*fps, 4), floor(min(768, T)/2)*2), T) / 2) * 2
# max_px = max(min(768*784 = 602112, 90316800 / frames * 2), int(100352 * 1.05) = 105369);
#    min_px = 100352
# resize: sides round to x28 (>= 28); over max_px: beta = sqrt(h*w/max_px), floor;
#    under min_px: ceil
# tokens: frames/2 grids x (h/28)(w/28); special 2 (<|vision_start|> ... <|vision_end|>)

MIMO_VL = [
    # A: 1800/30*2 = 120 -> 120. max_px = min(602112, 1505280) = 602112.
    #    1080/28 = 38.57 -> 39*28 = 1092; 1920/28 = 68.57 -> 69*28 = 1932;
    #       1092*1932 = 2,109,744 > 602112
    #    beta = sqrt(2073600/602112) = 1.85577; 1080/1.85577/28 = 20.78 -> 560;
    #       1920/1.85577/28 = 36.95 -> 1008
    #    per grid 20*36 = 720; vision 60*720 = 43200
    ("A", 120, (1008, 560), 720, 43200),
    # B: 300/29.97*1 = 10.010 -> floor(5.005)*2 = 10; max_px = min(602112, 18,063,360) = 602112
    #    728x1288 over -> beta = sqrt(921600/602112) = 1.23718; 720/1.23718/28 = 20.78 -> 560;
    #       1280/.../28 = 36.95 -> 1008
    #    per grid 720; 5 grids -> 3600
    ("B", 10, (1008, 560), 720, 3600),
    # C: 1439/23.976*0.5 = 30.009 -> 30; 360/28 = 12.86 -> 13*28 = 364;
    #    640/28 = 22.86 -> 23*28 = 644
    #    364*644 = 234,416 within [100352, 602112]: kept. per grid 13*23 = 299; 15 grids -> 4485
    ("C", 30, (644, 364), 299, 4485),
    # D: 50/12.5*2 = 8 -> 8. 240/28 = 8.57 -> 252; 320/28 = 11.43 -> 308; 252*308 = 77,616 < 100352
    #    beta = sqrt(100352/76800) = 1.14310; ceil(240*1.1431/28 = 9.80) = 10 -> 280;
    #       ceil(320*1.1431/28 = 13.06) = 14 -> 392
    #    per grid 10*14 = 140; 4 grids -> 560
    ("D", 8, (392, 280), 140, 560),
    # E: 24/24*0.1 = 0.1 -> max(0.1, 4) = 4 (the minimum); high = floor(24/2)*2 = 24 -> 4 frames;
    #    size as B
    ("E", 4, (1008, 560), 720, 1440),
    # F: T=3: high = floor(min(768, 3)/2)*2 = 2; min(max(0.2, 4), 2) = 2 -> 2 frames; size as B
    ("F", 2, (1008, 560), 720, 720),
]


@pytest.mark.parametrize("clip, frames, size, per_grid, vision", MIMO_VL)
def test_mimo_vl_by_hand(clip, frames, size, per_grid, vision):
    p = plan("mimo-vl", clip)
    assert (p.frames, (p.width, p.height), p.tokens_per_grid, p.vision, p.special) == (
        frames,
        size,
        per_grid,
        vision,
        2,
    )
    assert (
        p.grids == frames // 2 and p.timestamp_texts == ()
    )  # Qwen2.5-VL: time goes through MRoPE, no text


def test_mimo_vl_indices_by_hand():
    # A: torch.linspace(0, 1799, 120): step = 1799/119 = 15.1176;
    #    15.12 -> 15, 30.24 -> 30, 45.35 -> 45;
    #    i = 60 (second half): 1799 - 15.1176*59 = 907.06 -> 907; last = 1799
    idx = plan("mimo-vl", "A").indices
    assert idx[:4].tolist() == [0, 15, 30, 45] and idx[60] == 907 and idx[-1] == 1799
    # B: linspace(0, 299, 10), step 33.222: 0, 33.2, 66.4, 99.7, 132.9 | 166.1, 199.3, 232.6,
    #    265.8, 299 (rounded)
    assert plan("mimo-vl", "B").indices.tolist() == [0, 33, 66, 100, 133, 166, 199, 233, 266, 299]
    # D: linspace(0, 49, 8): step exactly 7
    assert plan("mimo-vl", "D").indices.tolist() == [0, 7, 14, 21, 28, 35, 42, 49]
    # F: linspace(0, 2, 2) = [0, 2]
    assert plan("mimo-vl", "F").indices.tolist() == [0, 2]


def test_mimo_vl_long_clip_meets_the_frame_cap_and_the_total_budget():
    # 10 min at 30 fps: 18000/30*2 = 1200 -> high = floor(min(768, 18000)/2)*2 = 768 frames.
    # max_px = max(min(602112, 90316800/768*2 = 235200), 105369) = 235200
    # 1920x1080: beta = sqrt(2073600/235200) = 2.96923; 1080/2.96923/28 = 12.99 -> 12 -> 336;
    #    1920/.../28 = 23.09 -> 644
    # per grid 12*23 = 276; 384 grids -> 105,984
    p = PROFILES["mimo-vl"].plan(600, 1920, 1080, 2, native_fps=30, native_frame_count=18000)
    assert (p.frames, p.width, p.height, p.tokens_per_grid, p.vision) == (
        768,
        644,
        336,
        276,
        105984,
    )


def test_mimo_vl_tiny_and_huge_frames():
    # 16x16: sides round to max(28, round(16/28)*28 = 28) = 28;
    #    784 < 100352 -> beta = sqrt(100352/256) = 19.80
    #        ceil(16*19.8/28 = 11.31) = 12 -> 336x336; per grid 12*12 = 144
    p = plan("mimo-vl", "D", w=16, h=16)
    assert (p.width, p.height, p.tokens_per_grid) == (336, 336, 144)
    # 7680x4320 (16:9 like A): beta = sqrt(33177600/602112) = 7.4231 -> 20.78 -> 560, 36.95 -> 1008
    p = plan("mimo-vl", "A", w=7680, h=4320)
    assert (p.width, p.height) == (1008, 560)


# ---- sglang-mimo-v2 ---------------------------------------------------------------------------
# frames = smart_nframes with fps, min_frames 8, max_frames 256 (seeded by the processor):
#          floor(min(min(max(T/r*fps, 8), 256), T) / 2) * 2
# indices = np.unique(np.linspace(0, T-1, n, dtype=int64)): truncated
# factor 14*2 = 28; max_px = max(3136, min(16384*784*2 // n, 4096*784 = 3,211,264));
#    min_px = 4*784 = 3136
# tokens: grids x (h/14)(w/14)//4; special 2 + 2 per grid (muted) or + 4 per grid (with an audio
#    track)
# text: MM:SS of each pair's first frame

SGLANG = [
    # A: 120 frames. max_px = min(25,690,112 // 120 = 214,084, 3211264) = 214084
    #    1092x1932 over: beta = sqrt(2073600/214084) = 3.11222; 1080/3.11222/28 = 12.39 -> 336;
    #       1920/.../28 = 22.03 -> 616
    #    per grid 12*22 = 264; 60 grids -> 15840; special 2 + 120 = 122
    ("A", 120, (616, 336), 264, 15840, 122),
    # B: max(10.01, 8) = 10.01 -> 10 frames;
    #    max_px = min(25690112 // 10 = 2,569,011, 3211264) = 2569011
    #    728*1288 = 937,664 fits: 1288x728; per grid 26*46 = 1196; 5 grids -> 5980; special 12
    ("B", 10, (1288, 728), 1196, 5980, 12),
    # C: 30.009 -> 30; max_px = min(856,337, 3211264); 364*644 = 234416 fits -> 644x364;
    #    per grid 299; 15 grids -> 4485
    ("C", 30, (644, 364), 299, 4485, 32),
    # D: max(8, 8) = 8; max_px = min(3,211,264, 3211264); 252*308 = 77616 fits (min 3136) -> 308x252
    #    per grid 9*11 = 99; 4 grids -> 396; special 10
    ("D", 8, (308, 252), 99, 396, 10),
    # E: max(0.1, 8) = 8 (SGLang's minimum is 8, not 4);
    #    max_px = min(3211264, 3211264): 1288x728 fits
    ("E", 8, (1288, 728), 1196, 4784, 10),
    # F: min(max(0.2, 8), 256) = 8; min(8, T=3) = 3 -> floor(1.5)*2 = 2 frames;
    #    max_px 3211264 -> 1288x728
    ("F", 2, (1288, 728), 1196, 1196, 4),
]


@pytest.mark.parametrize("clip, frames, size, per_grid, vision, special", SGLANG)
def test_sglang_mimo_v2_by_hand(clip, frames, size, per_grid, vision, special):
    p = plan("sglang-mimo-v2", clip)
    assert (p.frames, (p.width, p.height), p.tokens_per_grid, p.vision, p.special) == (
        frames,
        size,
        per_grid,
        vision,
        special,
    )


def test_sglang_indices_are_truncated_not_rounded():
    # B: linspace(0, 299, 10) = 0, 33.2, 66.4, 99.7, 132.9, 166.1, 199.3, 232.6, 265.8,
    #    299 -> truncated
    assert plan("sglang-mimo-v2", "B").indices.tolist() == [
        0,
        33,
        66,
        99,
        132,
        166,
        199,
        232,
        265,
        299,
    ]
    # ... where Qwen2.5-VL's rounding picks 100, 133, 233, 266: four of ten frames differ
    vl = plan("mimo-vl", "B").indices
    assert (plan("sglang-mimo-v2", "B").indices != vl).sum() == 4
    # A: 1799/119 = 15.1176: 15.1 -> 15, 30.2 -> 30, 45.4 -> 45, 60.5 -> 60;
    #    index 118: 1783.9 -> 1783
    idx = plan("sglang-mimo-v2", "A").indices
    assert idx[:5].tolist() == [0, 15, 30, 45, 60] and idx[118] == 1783


def test_sglang_mm_ss_timestamps_by_hand():
    # B: pair heads are indices 0, 66, 132, 199, 265;
    #    / 29.97 = 0.0, 2.20, 4.40, 6.64, 8.84 s -> whole seconds
    assert plan("sglang-mimo-v2", "B").timestamp_texts == (
        "00:00",
        "00:02",
        "00:04",
        "00:06",
        "00:08",
    )
    # A: last pair head is index 1783 -> 59.43 s -> 00:59; 60 texts in all
    texts = plan("sglang-mimo-v2", "A").timestamp_texts
    assert len(texts) == 60 and texts[:3] == ("00:00", "00:01", "00:02") and texts[-1] == "00:59"
    assert profiles.format_mm_ss(np.float32(754.9)) == "12:34"


def test_sglang_audio_track_adds_an_audio_pair_per_grid():
    # with sound each grid also carries <audio_start> ... <audio_end>:
    #    2 + 4*4 = 18 for D (audio tokens not counted)
    assert plan("sglang-mimo-v2", "D", mute=False).special == 18
    assert plan("sglang-mimo-v2", "D", mute=True).special == 10


def test_sglang_thin_frames_scale_up_and_skip_the_ratio_check():
    # 16x16 (A's counts, max_px 214084): a side < 28 -> scale 28/16 = 1.75
    #    -> int(round(28.0)) = 28 x 28
    # 784 < 3136 -> beta = sqrt(3136/784) = 2 -> ceil(28*2/28) = 2 -> 56x56; per grid 2*2 = 4
    p = plan("sglang-mimo-v2", "A", w=16, h=16)
    assert (p.width, p.height, p.tokens_per_grid) == (56, 56, 4)
    # 10000x20: 20 < 28 -> scale 1.4 -> 14000x28 (no 200:1 check on this branch);
    #    14000*28 = 392000 > 214084
    # beta = sqrt(392000/214084) = 1.3532; floor(28/1.3532/28 = 0.74) = 0:
    #    no pixels, torch's resize would fail
    with pytest.raises(LimitError, match="no pixels"):
        plan("sglang-mimo-v2", "A", w=10000, h=20)


# ---- qwen3-vl ----------------------------------------------------------------------------------
# frames = min(max(int(T/r*fps), 4), 768, T), not forced even (an odd count repeats its last frame)
# indices = np.linspace(0, T-1, n).round()
# factor 16*2 = 32; bounds over the clip: t_bar*h*w within [4096, 25,165,824], t_bar = round(n/2)*2
# tokens: ceil(n/2) grids x (h/16)(w/16)/4; special 2 per grid;
#    text "<t seconds>", t = mean of the pair

QWEN3 = [
    # A: int(120.0) = 120; 1080/32 = 33.75 -> 34 -> 1088; 1920 -> 1920;
    #    120*1088*1920 = 250,675,200 > 25165824
    #    beta = sqrt(120*2073600/25165824) = 3.14447; 1080/3.14447/32 = 10.73 -> 320;
    #       1920/.../32 = 19.08 -> 608
    #    per grid 20*38/4 = 190; 60 grids -> 11400; special 120
    ("A", 120, (608, 320), 190, 11400, 120),
    # B: int(10.01) = 10; 720/32 = 22.5 -> round half to even: 22 -> 704; 1280 -> 1280;
    #    10*704*1280 = 9,011,200 fits
    #    per grid 44*80/4 = 880; 5 grids -> 4400
    ("B", 10, (1280, 704), 880, 4400, 10),
    # C: int(30.009) = 30; 360/32 = 11.25 -> 352; 640 -> 640; 30*352*640 = 6,758,400 fits;
    #    per grid 22*40/4 = 220
    ("C", 30, (640, 352), 220, 3300, 30),
    # D: int(8.0) = 8; 240/32 = 7.5 -> 8 (half to even) -> 256; 320 -> 320; 8*256*320 = 655,360 fits
    #    per grid 16*20/4 = 80; 4 grids -> 320
    ("D", 8, (320, 256), 80, 320, 8),
    # E: int(0.1) = 0 -> max(0, 4) = 4; 4*704*1280 = 3,604,480 fits -> 1280x704
    ("E", 4, (1280, 704), 880, 1760, 4),
    # F: min(max(int(0.2) = 0, 4), 768, T=3) = 3 (odd); t_bar = round(1.5)*2 = 4; 4*704*1280 fits
    #    2 grids (the 3rd frame is repeated) -> 1760
    ("F", 4, (1280, 704), 880, 1760, 4),
]


@pytest.mark.parametrize("clip, frames, size, per_grid, vision, special", QWEN3)
def test_qwen3_vl_by_hand(clip, frames, size, per_grid, vision, special):
    p = plan("qwen3-vl", clip)
    assert (p.frames, (p.width, p.height), p.tokens_per_grid, p.vision, p.special) == (
        frames,
        size,
        per_grid,
        vision,
        special,
    )


def test_qwen3_vl_odd_counts_repeat_the_last_frame():
    # F: linspace(0, 2, 3) = [0, 1, 2], padded to [0, 1, 2, 2]
    assert plan("qwen3-vl", "F").indices.tolist() == [0, 1, 2, 2]
    # D at fps 1.3: int(4 * 1.3 = 5.2) = 5 frames; linspace(0, 49, 5) = 0, 12.25, 24.5, 36.75, 49
    #   -> 0, 12, 24 (half to even), 37, 49, padded with 49; 3 grids of 80 tokens
    p = plan("qwen3-vl", "D", fps=1.3)
    assert p.indices.tolist() == [0, 12, 24, 37, 49, 49] and (p.grids, p.vision) == (3, 240)
    # text: pair means (0 + 0.96)/2 = 0.48, (1.92 + 2.96)/2 = 2.44, (3.92 + 3.92)/2 = 3.92
    assert p.timestamp_texts == ("<0.5 seconds>", "<2.4 seconds>", "<3.9 seconds>")


def test_qwen3_vl_tiny_and_refused_frames():
    # 16x16 (D's 8 frames): a side < 32 -> scale max(2, 2) -> 32x32;
    #    8*32*32 = 8192 fits -> per grid 2*2/4 = 1
    p = plan("qwen3-vl", "D", w=16, h=16)
    assert (p.width, p.height, p.tokens_per_grid) == (32, 32, 1)
    # 10000x20: scale 1.6 -> 16000x32, 500:1 > 200:1 -> transformers raises
    with pytest.raises(LimitError, match="200:1"):
        plan("qwen3-vl", "D", w=10000, h=20)


def test_qwen3_vl_class_default_budget_is_a_replace_away():
    # the processor class without a checkpoint: longest_edge 786432 over the clip
    # A: 120*1088*1920 > 786432 -> beta = sqrt(120*2073600/786432) = 17.788;
    #    1080/17.788/32 = 1.90 -> max(32, 32) = 32
    #    1920/17.788/32 = 3.37 -> 96: a 96x32 frame, 3 tokens per grid
    bare = dataclasses.replace(
        PROFILES["qwen3-vl"], longest_edge=32 * 32 * 768, shortest_edge=128 * 32 * 32
    )
    p = bare.plan(60, 1920, 1080, 2, native_fps=30, native_frame_count=1800)
    assert (p.width, p.height, p.tokens_per_grid) == (96, 32, 3)


# ---- mimo-api alongside: the same clips under the vendor's formula ----------------------------


def test_the_api_counts_from_duration_not_the_file():
    # B lasts 300/29.97 = 10.01 s: ceil(10.01 * 1) = 11 -> even:
    #    12 frames, where every server takes 10
    assert plan("mimo-api", "B").frames == 12
    assert {plan(name, "B").frames for name in ("mimo-vl", "sglang-mimo-v2", "qwen3-vl")} == {10}
    # A: the page's own example (60 s, 1920x1080, fps 2): 120 frames at 736x384, 16560 vision tokens
    p = plan("mimo-api", "A")
    assert (p.frames, p.width, p.height, p.vision) == (120, 736, 384, 16560)
    assert p.indices.tolist() == tokens.sample_indices(1800, 120).tolist()


# ---- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mimo-vl", "sglang-mimo-v2", "qwen3-vl"])
def test_a_one_frame_file_is_refused_as_the_server_would(name):
    with pytest.raises(LimitError, match="frame"):
        PROFILES[name].plan(1 / 30, 640, 360, 2, native_fps=30, native_frame_count=1)


@pytest.mark.parametrize("name", ["mimo-vl", "qwen3-vl"])
def test_more_than_200_to_1_is_refused(name):
    with pytest.raises(LimitError, match="200:1"):
        PROFILES[name].plan(4, 6000, 28, 2, native_fps=25, native_frame_count=100)


def test_servers_need_the_file_frame_rate_or_count():
    with pytest.raises(LimitError, match="native_fps"):
        PROFILES["mimo-vl"].plan(10, 640, 360, 2)
    # one is enough: a constant-rate file has round(duration * rate) frames
    a = PROFILES["mimo-vl"].plan(10, 640, 360, 2, native_fps=30)
    b = PROFILES["mimo-vl"].plan(10, 640, 360, 2, native_frame_count=300)
    assert a == b and a.frames == 20


def test_unknown_profiles_and_bad_natives_raise_mimo_errors():
    with pytest.raises(LimitError, match="mimo-api, mimo-vl"):
        profiles.get_profile("vllm")
    for bad in (
        dict(native_fps=0),
        dict(native_fps=float("nan")),
        dict(native_frame_count=0),
        dict(native_frame_count=2.5),
    ):
        with pytest.raises(MimoError):
            PROFILES["qwen3-vl"].plan(10, 640, 360, 2, **bad)
    with pytest.raises(LimitError, match="fps"):
        PROFILES["qwen3-vl"].plan(10, 640, 360, 20, native_fps=30)


# ---- The pieces ---------------------------------------------------------------------------------


def test_torch_float32_linspace_can_pick_another_frame_than_float64():
    # 111,984 frames (a 62-minute 30 fps film), 720 frames:
    #    element 288 is 44855.4993 in float64 (-> 44855)
    # but torch's float32 arithmetic lands on the other side of the half (-> 44856)
    torch_like = profiles.torch_linspace_round(0, 111983, 720)
    float64 = np.round(np.linspace(0, 111983, 720)).astype(np.int64)
    assert float64[288] == 44855 and torch_like[288] == 44856
    assert profiles.torch_linspace_round(0, 9, 4).tolist() == [0, 3, 6, 9]


def test_pad_and_unique():
    assert profiles.pad_to_pairs(np.array([3, 5, 9])).tolist() == [3, 5, 9, 9]
    assert profiles.pad_to_pairs(np.array([3, 5])).tolist() == [3, 5]
    assert profiles.truncated_unique_linspace(3, 8).tolist() == [
        0,
        1,
        2,
    ]  # asking for more than exist


def test_timestamp_text_formats():
    assert profiles.format_qwen3_seconds(12.54) == "<12.5 seconds>"
    assert (
        profiles.format_mm_ss(np.float32(59.99)) == "00:59"
        and profiles.format_mm_ss(np.float32(3600)) == "60:00"
    )


# ---- Scalar and array agree (the planner relies on the arrays) ---------------------------------

native_rates = st.sampled_from([29.97, 23.976, 12.5, 24.0, 25.0, 30.0, 60.0, 1.0, 5.0])


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(list(PROFILES)),
    seconds=st.floats(0.05, 900),
    rate=native_rates,
    jitter=st.integers(-2, 2),
    width=st.one_of(st.integers(1, 40), st.integers(1, 8000)),
    height=st.integers(1, 5000),
    tenths=st.integers(1, 100),
    mute=st.booleans(),
    media_resolution=st.sampled_from(["default", "max"]),
)
def test_tokens_array_equals_plan(
    name, seconds, rate, jitter, width, height, tenths, mute, media_resolution
):
    count = max(1, round(seconds * rate) + jitter)
    fps = round(tenths / 10, 1)
    prof = PROFILES[name]
    out = prof.tokens_array(
        seconds,
        width,
        height,
        fps,
        media_resolution,
        mute,
        native_fps=rate,
        native_frame_count=count,
    )
    try:
        p = prof.plan(
            seconds,
            width,
            height,
            fps,
            media_resolution,
            native_fps=rate,
            native_frame_count=count,
            mute=mute,
        )
    except LimitError:
        assert out["tokens"] == -1 and out["vision"] == -1
        return
    assert int(out["vision"]) == p.vision
    expected = (
        tokens.estimate_video_tokens(seconds, width, height, fps, media_resolution, mute)
        if name == "mimo-api"
        else p.vision + p.special
    )
    assert (int(out["frames"]), int(out["width"]), int(out["height"]), int(out["tokens"])) == (
        p.frames,
        p.width,
        p.height,
        expected,
    )
    if p.indices is not None:
        assert len(p.indices) == p.frames and p.frames % 2 == 0


# ---- Through plan_sampling and Video ----------------------------------------------------------


def test_plan_sampling_carries_its_profile_and_indices():
    api = mn.plan_sampling(60, 1920, 1080, fps=2)
    assert api.profile == "mimo-api" and (api.frames, api.width, api.height) == (
        120,
        736,
        384,
    )  # unchanged numbers
    vl = mn.plan_sampling(
        10.01, 1280, 720, fps=1, profile="mimo-vl", native_fps=29.97, native_frame_count=300
    )
    assert vl.profile == "mimo-vl" and vl.indices().tolist() == [
        0,
        33,
        66,
        100,
        133,
        166,
        199,
        233,
        266,
        299,
    ]
    assert np.allclose(vl.timestamps, vl.indices() / 29.97)
    with pytest.raises(LimitError, match="300 frames"):
        vl.indices(301)  # a server plan belongs to its file
    sg = mn.plan_sampling(
        10.01, 1280, 720, fps=1, profile="sglang-mimo-v2", native_fps=29.97, native_frame_count=300
    )
    assert sg.timestamp_texts[:2] == ("00:00", "00:02")


def test_video_plan_estimate_and_sample_take_native_values_from_the_probe(clips):
    video = Video.open(clips("profiles_12_5.mp4", duration=4, fps=12.5))  # clip D's rate: 50 frames
    assert video.native_frame_count == 50
    for name in PROFILES:
        plan_ = video.plan(fps=2, profile=name)
        frames = video.sample(fps=2, profile=name)
        assert plan_.profile == name and len(frames) == plan_.frames
        assert frames.indices.tolist() == plan_.indices(video.native_frame_count).tolist()
        assert (
            counters(frames.array) == frames.indices.tolist()
        )  # decoded pixels are those very frames
        assert frames.array.shape[1:3] == (plan_.height, plan_.width)
    # clip D worked by hand above: 8 frames everywhere, sizes differ by server (160x120 here)
    estimate = video.estimate(fps=2, profile="sglang-mimo-v2")
    assert (
        isinstance(estimate, profiles.ServerTokenBreakdown) and estimate.special == 2 + 4 * 4
    )  # the clip has sound
    assert estimate.counted == estimate.vision + estimate.special and "not counted" in str(estimate)
    assert "<table" in estimate._repr_html_() and estimate.to_dict()["counted"] == estimate.counted
    assert isinstance(video.estimate(fps=2), tokens.TokenBreakdown)


def test_custom_profile_object_is_accepted():
    coarse = dataclasses.replace(PROFILES["sglang-mimo-v2"], patch_size=16, name="sglang-patch16")
    p = mn.plan_sampling(4, 320, 240, fps=2, profile=coarse, native_fps=12.5, native_frame_count=50)
    assert p.profile == "sglang-patch16" and p.width % 32 == 0 and p.height % 32 == 0
    assert "sglang" in PROFILES["sglang-mimo-v2"]._repr_html_()


# ---- Side by side, and the plot --------------------------------------------------------------


def test_compare_profiles_marks_frames_the_api_does_not_pick(clips):
    from mimo_nb.display.compare import compare_profiles

    video = Video.open(clips("profiles_cmp.mp4", duration=3, fps=30))  # 90 frames
    comparison = compare_profiles(video, fps=2)
    api = set(video.plan(fps=2).indices(90).tolist())
    assert [v.profile for v in comparison.views] == list(PROFILES)
    for view in comparison.views:
        plan_ = video.plan(fps=2, profile=view.profile)
        assert (
            list(view.indices) == plan_.indices(90).tolist()
            and len(view.thumbnails) == view.frames == plan_.frames
        )
        assert list(view.differs) == [i not in api for i in view.indices]
    # SGLang's minimum of 8 frames (3 s at fps 2 asks for 6) picks frames the API does not:
    #    12, 25, 38, ...
    sglang = comparison.view("sglang-mimo-v2")
    assert sglang.frames == 8 and sglang.changed == 6 and comparison.view("mimo-api").changed == 0
    page = comparison._repr_html_()
    assert (
        page.count("text-align:center;border:2px solid #e67e00") == 6
        and "#12 · 0.40 s" in page
        and "00:00, 00:00, 00:01, 00:02" in page
    )
    assert comparison.to_pandas().set_index("profile").loc["sglang-mimo-v2", "changed_vs_api"] == 6


def test_compare_profiles_shows_a_refusal(clips):
    from mimo_nb.display.compare import compare_profiles

    video = Video.open(clips("profiles_one.mp4", duration=0.04, fps=25))  # a single frame
    assert video.native_frame_count == 1
    comparison = compare_profiles(video, fps=1, thumbnails=False)
    assert comparison.view("mimo-api").error is None and comparison.view("mimo-api").frames == 2
    assert all(comparison.view(n).error for n in ("mimo-vl", "sglang-mimo-v2", "qwen3-vl"))
    assert "refuses this video" in comparison._repr_html_()


def test_plot_tokens_vs_fps_by_profile_draws_each_profile_from_the_arrays():
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from mimo_nb.display.plots import plot_tokens_vs_fps, plot_tokens_vs_fps_by_profile

    ax = plot_tokens_vs_fps_by_profile(duration=60, width=1920, height=1080, native_fps=30)
    assert isinstance(ax, Axes)  # matplotlib's convention: the Axes drawn on
    lines = {line.get_gid(): line for line in ax.get_lines()}
    assert set(lines) == {f"profile:{name}" for name in PROFILES}
    x = lines["profile:mimo-vl"].get_xdata()
    at2 = int(np.flatnonzero(np.isclose(x, 2.0))[0])
    assert lines["profile:mimo-vl"].get_ydata()[at2] == 43200  # clip A by hand
    assert lines["profile:sglang-mimo-v2"].get_ydata()[at2] == 15840
    assert lines["profile:mimo-api"].get_ydata()[at2] == 16560
    other = Figure().add_subplot()
    assert (
        plot_tokens_vs_fps_by_profile(
            duration=10, width=640, height=360, ax=other, profiles=["qwen3-vl"]
        )
        is other
    )
    ax = plot_tokens_vs_fps(60, 1920, 1080, profile="qwen3-vl", native_fps=30)
    (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == "profile:qwen3-vl"]
    assert line.get_ydata()[at2] == 11400 + 120  # vision + special, clip A
    with pytest.raises(LimitError, match="native_fps"):
        plot_tokens_vs_fps(60, 1920, 1080, profile="qwen3-vl")
