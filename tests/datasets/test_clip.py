import pickle

import cv2
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skmer.datasets import Clip, ClipSequence, read_frames


@pytest.fixture
def frame_dir(tmp_path):
    rng = np.random.RandomState(0)
    frames = rng.randint(0, 255, size=(12, 40, 32), dtype=np.uint8)
    for i, f in enumerate(frames):
        # natural order: img2 before img10
        cv2.imwrite(str(tmp_path / f"img{i + 1}.png"), f)
    return tmp_path, frames


def test_lazy_folder_clip_reads_in_natural_order(frame_dir):
    path, frames = frame_dir
    clip = Clip(source=path, onset=0, apex=5, offset=11, fps=200)
    assert not clip.is_loaded
    assert clip.n_frames == 12
    np.testing.assert_array_equal(clip.frames, frames)
    assert clip.shape == (12, 40, 32) and clip.dtype == np.uint8


def test_frame_files_subset_and_rgb(frame_dir):
    path, frames = frame_dir
    clip = Clip(source=path, frame_files=["img3.png", "img4.png"], color="rgb")
    assert clip.n_frames == 2 and not clip.is_loaded
    assert clip.shape == (2, 40, 32, 3)
    np.testing.assert_array_equal(clip.frames[..., 0], frames[2:4])


def test_lazy_clip_pickles_as_its_source(frame_dir):
    path, _ = frame_dir
    clip = Clip(source=path, apex=3, subject="casme2/sub01")
    clip.load()
    assert clip.is_loaded
    data = pickle.dumps(clip)
    assert len(data) < 2000  # the pixels (15 kB) are not in it
    back = pickle.loads(data)
    assert not back.is_loaded and back.apex == 3 and back.subject == "casme2/sub01"
    assert back == clip


def test_lazy_clip_pickle_changes_when_a_source_file_changes(frame_dir):
    path, frames = frame_dir
    clip = Clip(source=path)
    before = pickle.dumps(clip)
    assert pickle.dumps(clip) == before
    cv2.imwrite(str(path / "img3.png"), frames[2][:, ::-1].copy())
    assert pickle.dumps(clip) != before
    assert "_fingerprint" not in pickle.loads(before).__dict__


def test_in_memory_clip_pickles_its_pixels():
    clip = Clip(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), apex=1)
    back = pickle.loads(pickle.dumps(clip))
    assert back == clip and back.is_loaded


def test_replace_carries_metadata_and_does_not_touch_input():
    frames = np.zeros((5, 4, 4))
    clip = Clip(frames, onset=0, apex=2, offset=4, fps=30, id="a", subject="d/s1")
    new = clip.replace(frames=frames[::2], apex=1)
    assert new.apex == 1 and new.fps == 30 and new.id == "a" and new.shape[0] == 3
    assert clip.apex == 2 and clip.shape[0] == 5
    with pytest.raises(TypeError, match="Unknown Clip metadata"):
        clip.replace(colour=1)


def test_clip_needs_exactly_one_of_frames_and_source(tmp_path):
    with pytest.raises(ValueError, match="either"):
        Clip()
    with pytest.raises(ValueError, match="not both"):
        Clip(np.zeros((2, 2, 2)), source=tmp_path)


def test_video_clip(tmp_path):
    path = tmp_path / "v.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (16, 12))
    for i in range(6):
        writer.write(np.full((12, 16, 3), 40 * i, np.uint8))
    writer.release()
    clip = Clip(source=path)
    assert clip.shape == (6, 12, 16)
    assert abs(float(clip.frames[3].mean()) - 120) < 5


def test_corrupt_or_missing_sources_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(ValueError, match="corrupt"):
        Clip(source=bad).frames
    img_dir = tmp_path / "frames"
    img_dir.mkdir()
    (img_dir / "001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="corrupt"):
        read_frames(img_dir)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Clip(source=tmp_path / "nowhere").frames
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no image"):
        read_frames(empty)


def test_frames_of_different_sizes_in_a_folder(tmp_path):
    cv2.imwrite(str(tmp_path / "1.png"), np.zeros((4, 4), np.uint8))
    cv2.imwrite(str(tmp_path / "2.png"), np.zeros((5, 4), np.uint8))
    with pytest.raises(ValueError, match="different sizes"):
        read_frames(tmp_path)


def _seq(n=6):
    return ClipSequence([Clip(np.full((3, 4, 4), i, np.float32), id=str(i),
                              subject=f"d/s{i // 2}") for i in range(n)])


def test_clip_sequence_indexing():
    X = _seq()
    assert len(X) == 6 and X.shape == (6,) and X.ndim == 1
    assert isinstance(X[2], Clip) and X[2].id == "2"
    assert [c.id for c in X[1:4]] == ["1", "2", "3"]
    assert [c.id for c in X[np.array([5, 0])]] == ["5", "0"]
    assert [c.id for c in X[[1, 1]]] == ["1", "1"]
    mask = np.zeros(6, bool)
    mask[[0, 3]] = True
    assert [c.id for c in X[mask]] == ["0", "3"]
    with pytest.raises(IndexError):
        X[np.ones(3, bool)]
    with pytest.raises(TypeError, match="Clip objects"):
        ClipSequence([np.zeros((2, 2, 2))])


def test_clip_sequence_is_lazy_when_indexed(frame_dir):
    path, _ = frame_dir
    X = ClipSequence([Clip(source=path) for _ in range(4)])
    sub = X[np.array([1, 2])]
    assert not any(c.is_loaded for c in sub)


def test_clip_sequence_in_cross_val_predict_with_logo():
    X = _seq(8)
    y = np.array([0, 1] * 4)
    groups = np.repeat(["d/s0", "d/s1", "d/s2", "d/s3"], 2)

    def mean_pixel(X):
        assert isinstance(X, ClipSequence)  # sklearn indexes it without converting
        return np.array([[c.frames.mean()] for c in X])

    pipe = make_pipeline(FunctionTransformer(mean_pixel), LogisticRegression())
    pred = cross_val_predict(pipe, X, y, groups=groups, cv=LeaveOneGroupOut())
    assert pred.shape == (8,)
