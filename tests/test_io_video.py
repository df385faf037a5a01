"""Video cines: real H.264 phantom cines in MP4 and in DICOM (1.2.840.10008.1.2.4.102), read lazily.

The videos are encoded here with PyAV's libx264 (crf 18, yuv420p, a key frame every 10 frames,
2 B-frames) from a 30-frame 128 x 160 phantom cine (tests/video_factory.py).  Codec error measured
on these frames: 1.6-3.0 grey levels mean absolute error (max 18-31 on the speckle texture); the
tolerance is 4 grey levels mean.  Each lazily decoded frame must also equal, bit for bit, the same
frame of a plain start-to-end decode with PyAV, so an off-by-one in the seek or in the B-frame
reordering fails (the phantom's breathing is periodic: "closest source frame" would not catch it).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from needleplan.cli import main
from needleplan.errors import ImageReadError, UnsupportedCodecError
from needleplan.io import open_image, read_info
from needleplan.io._video_stream import VideoIndex
from tests.video_factory import encode_video, h264_mp4, phantom_cine, video_dicom

GOP = 10
MEAN_ERROR_TOLERANCE = 4.0  # grey levels, see the module docstring


@pytest.fixture(scope="module")
def cine() -> np.ndarray:
    return phantom_cine(30)


@pytest.fixture(scope="module")
def videos(cine: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("video")
    return {
        "mp4": h264_mp4(cine, folder / "cine.mp4", gop=GOP),
        "dicom": video_dicom(cine, folder / "cine.dcm", gop=GOP),
    }


def _decode_all(path: Path) -> list[np.ndarray]:
    """Every frame, start to end, with PyAV directly (the DICOM's stream from its fragments)."""
    import io

    import av
    import pydicom
    from pydicom.encaps import generate_fragments

    if path.suffix == ".dcm":
        pixel_data = pydicom.dcmread(path).PixelData
        source = io.BytesIO(b"".join(generate_fragments(pixel_data)))
    else:
        source = str(path)
    with av.open(source) as container:
        stream = container.streams.video[0]
        return [f.to_ndarray(format="rgb24") for p in container.demux(stream) for f in stream.decode(p)]


@pytest.fixture(scope="module")
def decoded(videos) -> dict[str, list[np.ndarray]]:
    return {kind: _decode_all(path) for kind, path in videos.items()}


@pytest.mark.parametrize("kind", ["mp4", "dicom"])
@pytest.mark.parametrize("index", [0, 4, 5, 9, 10, 17, 29])
def test_frames_match_the_source_within_the_codec_error(videos, cine, decoded, kind, index) -> None:
    image = open_image(videos[kind])
    frame = image.frame(index)
    assert frame.shape == (128, 160, 3) and frame.dtype == np.uint8
    assert len(decoded[kind]) == 30
    assert (frame == decoded[kind][index]).all()  # the same picture as a start-to-end decode
    assert (frame[..., 0] == frame[..., 2]).all()  # a grey source stays grey
    assert np.abs(frame[..., 1].astype(int) - cine[index]).mean() < MEAN_ERROR_TOLERANCE


@pytest.mark.parametrize("kind", ["mp4", "dicom"])
@pytest.mark.parametrize("index", [0, 9, 12, 29])
def test_frame_n_decodes_from_its_key_frame_only(videos, kind, index) -> None:
    # key frames at 0, 10, 20: frame 12 needs 10, 11, 12 (3 pictures), frame 29 needs 20-29 (10);
    # decoding from the start would need index + 1 pictures
    image = open_image(videos[kind])
    video = image._source.video
    assert video.decoded_frames == 0  # opening (indexing the packets) decodes nothing
    image.frame(index)
    assert video.decoded_frames == index - (index // GOP) * GOP + 1
    assert video.decoded_frames <= GOP


def test_the_lazy_array_decodes_only_what_napari_asks_for(videos) -> None:
    image = open_image(videos["mp4"])
    assert image.frames.shape == (30, 128, 160, 3)
    image.frames[25]
    assert image.decode_count == 1 and image._source.video.decoded_frames == 6  # 20 to 25


def test_plain_mp4_opens_uncalibrated_with_the_container_timing(videos) -> None:
    info = read_info(videos["mp4"])
    assert (info.frames, info.rows, info.columns, info.is_rgb) == (30, 128, 160, True)
    assert info.frame_time_ms == pytest.approx(40.0)  # 25 frames/s
    assert info.frame_times_ms[:3] == pytest.approx((0.0, 40.0, 80.0))
    assert info.frame_times_ms[-1] == pytest.approx(29 * 40.0)
    assert info.calibration.source == "NONE" and not info.calibration.is_calibrated
    assert "MP4 video carries no calibration" in info.calibration.reason
    assert info.transfer_syntax_uid is None and info.regions == ()


def test_dicom_video_keeps_its_region_calibration_and_timing(videos) -> None:
    info = read_info(videos["dicom"])
    assert info.transfer_syntax_uid == "1.2.840.10008.1.2.4.102" and info.modality == "US"
    assert (info.frames, info.rows, info.columns) == (30, 128, 160)
    assert info.frame_time_ms == pytest.approx(40.0)  # Frame Time, not the stream's guess
    cal = info.calibration
    assert cal.source == "US_REGION" and cal.spacing_mm == pytest.approx((0.3, 0.3))  # 0.03 cm x 10
    assert cal.origin_px == (6.0, 90.0)
    # pixel (55, 90): (55 - 6) * 0.3 = 14.7 mm deep, (90 - 90) * 0.3 = 0 mm across
    assert cal.px_to_mm(np.array([55.0, 90.0])) == pytest.approx((14.7, 0.0))
    assert any("h264 video stream" in note for note in info.notes)


@pytest.mark.parametrize(
    ("timing", "frame_time_ms"),
    [
        ({"cine_rate": 20}, 50.0),  # 1000 / 20 frames/s
        ({"frame_time_vector": [0.0] + [25.0] * 11, "frame_increment_pointer": [0x00181065]}, 25.0),
    ],
)
def test_dicom_video_timing_from_cine_rate_or_frame_time_vector(cine, tmp_path, timing, frame_time_ms) -> None:
    info = read_info(video_dicom(cine[:12], tmp_path / "t.dcm", timing=timing, fragments=1))
    assert info.frames == 12
    assert info.frame_time_ms == pytest.approx(frame_time_ms)
    assert info.frame_times_ms[-1] == pytest.approx(11 * frame_time_ms)


@pytest.mark.parametrize("kind", ["mp4", "dicom"])
def test_frame_sha256_is_the_stream_hash_and_the_index_stable_across_opens(videos, kind) -> None:
    first, second = open_image(videos[kind]), open_image(videos[kind])
    hashes = [first.frame_sha256(i) for i in range(30)]
    assert hashes == [second.frame_sha256(i) for i in range(30)]
    assert len(set(hashes)) == 30  # every frame has its own identity
    stream = first._source.video.index.stream_sha256
    assert hashes[7] == hashlib.sha256(f"{stream}:7".encode()).hexdigest()
    assert first.decode_count == 0 and first._source.video.decoded_frames == 0  # hashing decodes nothing


def test_the_same_pictures_in_another_stream_are_another_image(cine, tmp_path) -> None:
    a = open_image(h264_mp4(cine[:12], tmp_path / "a.mp4", crf=18))
    b = open_image(h264_mp4(cine[:12], tmp_path / "b.mp4", crf=30))
    assert a.frame_sha256(3) != b.frame_sha256(3)


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_a_cut_off_mp4_is_refused_in_one_line(videos, tmp_path) -> None:
    data = videos["mp4"].read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # the index (moov box) is at the end: gone
    with pytest.raises(ImageReadError) as exc:
        open_image(cut)
    assert "cut.mp4" in _one_line(exc) and "not a readable video" in str(exc.value)


def test_an_mp4_header_over_garbage_is_refused(tmp_path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 20)
    with pytest.raises(ImageReadError) as exc:
        open_image(junk)
    assert "junk.mp4" in _one_line(exc)


def _edited_video_dicom(cine: np.ndarray, path: Path, edit) -> Path:
    """A 12-frame H.264 DICOM, read back, changed by ``edit(dataset)`` and saved again."""
    import pydicom

    video_dicom(cine[:12], path)
    ds = pydicom.dcmread(path)
    edit(ds)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_dicom_video_with_a_damaged_stream_is_refused(cine, tmp_path) -> None:
    from pydicom.encaps import encapsulate

    def damage(ds) -> None:
        ds.PixelData = encapsulate([bytes(range(256)) * 40])

    with pytest.raises(ImageReadError) as exc:
        open_image(_edited_video_dicom(cine, tmp_path / "bad.dcm", damage))
    assert "bad.dcm" in _one_line(exc)


def test_a_transfer_syntax_that_promises_another_codec_is_named(cine, tmp_path) -> None:
    from pydicom.uid import UID

    def relabel(ds) -> None:  # HEVC Main, but the stream is H.264
        ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.4.107")

    with pytest.raises(UnsupportedCodecError) as exc:
        read_info(_edited_video_dicom(cine, tmp_path / "hevc.dcm", relabel))
    text = _one_line(exc)
    assert "1.2.840.10008.1.2.4.107" in text and "hevc" in text and "h264" in text


def test_cli_info_on_a_damaged_video_exits_2_with_one_line(tmp_path, capsys) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x01" * 100)
    assert main(["info", str(junk)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "junk.mp4" in err


def test_cli_info_json_on_the_dicom_video(videos, capsys) -> None:
    assert main(["info", str(videos["dicom"]), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == 30 and out["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.102"
    assert out["calibration"]["source"] == "US_REGION"


def test_detect_cine_on_the_dicom_video_finds_the_pleura_in_mm(videos, capsys) -> None:
    # the phantom's pleura (thin trapezius, seed 1) lies 14.64-14.65 mm deep; the crop keeps its mm
    assert main(["detect", str(videos["dicom"]), "--cine", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cine"] is True and out["calibrated"] is True
    pleura = [s for s in out["structures"] if s["kind"] == "pleura"]
    assert len(pleura) == 1
    depth_mm = float(np.median(np.asarray(pleura[0]["points_mm"])[:, 0]))
    assert depth_mm == pytest.approx(14.64, abs=1.0)
    assert "sliding present" in pleura[0]["evidence"]


def test_detect_cine_on_the_mp4_works_in_pixels(videos, capsys) -> None:
    assert main(["detect", str(videos["mp4"]), "--cine", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["calibrated"] is False and out["structures"] == []  # no mm without a calibration
    kinds = [d["kind"] for d in out["detections_px"]]
    assert "pleura" in kinds and "skin" in kinds


def test_a_folder_with_an_mp4_opens_it(cine, tmp_path) -> None:
    h264_mp4(cine[:12], tmp_path / "clip.mp4")
    (tmp_path / "notes.txt").write_text("not an image")
    assert open_image(tmp_path).info.path.endswith("clip.mp4")


def test_a_grey_stream_of_another_size_keeps_its_shape(tmp_path) -> None:
    frames = np.stack([np.full((48, 64), 40 + 10 * i, dtype=np.uint8) for i in range(5)])
    path = tmp_path / "flat.mp4"
    encode_video(frames, str(path), "mp4", gop=5)
    image = open_image(path)
    # flat grey 40, 50, ... 80 survive the limited-range YUV round trip within a grey level or two
    assert [int(np.median(image.frame(i))) for i in range(5)] == pytest.approx([40, 50, 60, 70, 80], abs=2)


@pytest.mark.parametrize("kind", ["mp4", "dicom"])
def test_a_cine_read_in_order_decodes_each_picture_once_and_backwards_restarts(videos, decoded, kind) -> None:
    image = open_image(videos[kind])
    video = image._source.video
    for i in range(30):  # what detect --cine and napari playback do
        assert (image.frame(i) == decoded[kind][i]).all()
    assert video.decoded_frames == 30  # not 1 + 2 + ... per group of pictures
    fresh = open_image(videos[kind])
    counts = []
    for index in (15, 6, 8, 25):
        assert (fresh.frame(index) == decoded[kind][index]).all()
        counts.append(fresh._source.video.decoded_frames)
    # 15: key frame 10, pictures 10-15 (6); 6: behind, starts again at key frame 0 (7);
    # 8: ahead in the same group, continues with 7, 8 (2); 25: its key frame 20 lies ahead of what
    # was read, so it seeks there: pictures 20-25 (6)
    assert np.diff([0, *counts]).tolist() == [6, 7, 2, 6]
    fresh.frame(8)  # from the cache: no decode
    assert fresh._source.video.decoded_frames == counts[-1]


def test_a_plan_bound_to_a_video_frame_round_trips_through_detect_into(videos, tmp_path, capsys) -> None:
    # the binding uses the video frame identity (stream hash + index): the right frame is accepted,
    # the same plan claiming another frame of the same video is refused
    from dataclasses import replace

    from needleplan.plan import load_plan, save_plan
    from needleplan.synth import generate_case

    image = open_image(videos["dicom"])
    binding = {
        "path": videos["dicom"].name,
        "sop_instance_uid": image.info.sop_instance_uid,
        "frame_index": 12,
        "pixel_sha256": image.frame_sha256(12),
    }
    plan = replace(
        generate_case("upper_trapezius", "thin", seed=1).to_plan(image=binding), calibration=image.info.calibration
    )
    path = tmp_path / "on_video.plan.json"
    save_plan(plan, path)
    assert main(["detect", str(videos["dicom"]), "--into", str(path)]) == 0
    saved = load_plan(path)
    assert saved.image.frame_index == 12
    assert any(s.suggested and s.kind == "pleura" for s in saved.structures)
    capsys.readouterr()
    save_plan(replace(saved, image=replace(saved.image, frame_index=13)), path)
    assert main(["detect", str(videos["dicom"]), "--into", str(path)]) == 2
    assert "pixel SHA-256" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("container", "codec", "options", "most_decoded"),
    [
        # most_decoded: pictures decoded for frame 13 with a key frame every 8 (8-13 is 6)
        ("avi", "h264", {}, 6),  # AVI's timestamps are the decode order: display order is counted
        ("mov", "h264", {}, 6),
        ("mp4", "hevc", {}, 6),
        ("mp4", "mpeg2", {}, 8),  # mpeg2video places its I-frames itself: within one group
        ("dicom", "hevc", {}, 6),  # HEVC/H.265 Main (.4.107), a bare stream: an IDR every 8
        # x265's open groups: CRA key frames are no clean start without timestamps, so the decoder
        # goes back to the stream's first IDR (frames 0-13) rather than count wrongly
        ("dicom", "hevc", {"closed_gop": False}, 14),
        ("dicom", "mpeg2", {}, 8),  # MPEG2 Main Profile / Main Level (.4.100): the parser's timestamps
    ],
)
def test_other_containers_and_codecs_decode_the_same_frames_lazily(
    cine, tmp_path, container, codec, options, most_decoded
) -> None:
    path = tmp_path / f"cine.{'dcm' if container == 'dicom' else container}"
    if container == "dicom":
        video_dicom(cine[:24], path, codec=codec, gop=8, **options)
    else:
        encode_video(cine[:24], str(path), container, codec=codec, gop=8, **options)
    everything = _decode_all(path)
    image = open_image(path)
    assert (image.info.frames, len(everything)) == (24, 24)
    assert image.info.frame_time_ms == pytest.approx(40.0)  # 25 frames/s, or the DICOM's Frame Time
    for index in (23, 5, 13, 2, 7, 19):  # out of order: seeks back and forth
        frame = image.frame(index)
        assert (frame == everything[index]).all(), f"frame {index}"
        assert np.abs(frame[..., 1].astype(int) - cine[index]).mean() < MEAN_ERROR_TOLERANCE
    fresh = open_image(path)
    fresh.frame(13)
    assert fresh._source.video.decoded_frames <= most_decoded


@given(st.lists(st.booleans(), min_size=1, max_size=60), st.data())
def test_start_packet_is_the_last_key_frame_at_or_before_the_frame(flags, data) -> None:
    # without timestamps display order is decode order from a key frame: the start for frame i is
    # the last key frame k <= i (packet 0 always counts as one), and no key frame lies in (k, i]
    keyframe = (True, *flags[1:])
    ix = VideoIndex("h264", 2, 2, keyframe, (None,) * len(keyframe), None, None, None, "", False)
    index = data.draw(st.integers(0, len(keyframe) - 1))
    start = ix.start_packet(index)
    assert keyframe[start] and start <= index
    assert not any(keyframe[start + 1 : index + 1])


@given(st.lists(st.booleans(), min_size=1, max_size=40), st.permutations(range(40)), st.data())
def test_start_packet_with_timestamps_never_starts_after_the_frame_is_shown(flags, order, data) -> None:
    # with timestamps (B-frames: decode order != display order) the start is a key frame shown at or
    # before the frame, and the last such one in decode order
    keyframe = (True, *flags[1:])
    n = len(keyframe)
    pts = list(order[:n])
    first = pts.index(min(pts))
    pts[0], pts[first] = pts[first], pts[0]  # packet 0 (a key frame) is shown first
    pts = tuple(pts)
    ix = VideoIndex("h264", 2, 2, keyframe, pts, tuple(sorted(pts)), 0.04, None, "", True)
    index = data.draw(st.integers(0, n - 1))
    start = ix.start_packet(index)
    target = sorted(pts)[index]
    assert keyframe[start] and pts[start] <= target
    assert not any(keyframe[k] and pts[k] <= target for k in range(start + 1, n))


def test_without_pyav_a_video_says_which_extra_adds_it(tmp_path):
    # PyAV is the optional extra needleplan[video]; without it (simulated by a module path where
    # `import av` fails) a video cine is one line naming the extra, not an ImportError traceback.
    import os
    import subprocess
    import sys

    path = h264_mp4(phantom_cine(6), tmp_path / "cine.mp4", gop=3)
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "av.py").write_text("raise ImportError('PyAV is not installed')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), *sys.path])
    done = subprocess.run(
        [sys.executable, "-m", "needleplan", "info", str(path)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "needleplan[video]" in line and "Traceback" not in done.stderr
