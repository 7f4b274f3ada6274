"""``skmer predict`` on real face videos with a model trained on synthetic data."""

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skmer.cli import main


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A small SVM model from ``skmer train`` (synthetic clips, a few seconds)."""
    path = tmp_path_factory.mktemp("model") / "svm.joblib"
    rc = main(["train", "--classifier", "svm", "--n-clips", "18", "--n-subjects",
               "3", "--face-size", "48", "--out", str(path)])
    assert rc == 0 and path.is_file()
    return path


def test_predict_single_face(shared_data, model_path, tmp_path, capsys):
    import matplotlib.image as mpimg

    png, js = tmp_path / "pred.png", tmp_path / "pred.json"
    video = shared_data / "video" / "pyfeat_single_face.mp4"
    rc = main(["predict", str(video), "--model", str(model_path), "--out", str(png),
               "--json", str(js)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "(72 frames, 30 fps)" in out
    assert "face found on frame 0; apex spotted at frame" in out
    res = json.loads(js.read_text())
    assert res["label"] in {"negative", "positive", "surprise"}
    assert f"predicted: {res['label']}" in out
    probs = res["probabilities"]
    assert set(probs) == {"negative", "positive", "surprise"}
    assert sum(probs.values()) == pytest.approx(1.0)
    for name, p in probs.items():
        assert f"{name}" in out and f"{p:.3f}" in out
    assert 0 < res["apex"] <= res["offset"] == 71 and res["onset"] == 0
    img = mpimg.imread(png)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 3 * img.shape[0]
    assert img[..., :3].std() > 0.1  # a picture, not a blank canvas
    assert f"wrote {png}" in out


def test_predict_frame_folder_matches_video(shared_data, model_path, tmp_path,
                                            capsys):
    """A folder of the video's frames (lossless PNG) gives the same result."""
    import cv2

    from skmer.datasets import read_frames

    video = shared_data / "video" / "pyfeat_single_face.mp4"
    frames = read_frames(video, color="grey")[:24]
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"img{i + 1}.png"), f)  # natural order img2 < img10
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["predict", str(video), "--model", str(model_path), "--offset",
                 "23", "--out", str(tmp_path / "a.png"), "--json", str(a)]) == 0
    assert main(["predict", str(folder), "--model", str(model_path), "--out",
                 str(tmp_path / "b.png"), "--json", str(b)]) == 0
    ra, rb = json.loads(a.read_text()), json.loads(b.read_text())
    assert (rb["apex"], rb["offset"], rb["label"]) == (ra["apex"], 23, ra["label"])
    assert rb["probabilities"] == pytest.approx(ra["probabilities"], abs=1e-9)


def test_predict_no_face_exits_2(shared_data, model_path, tmp_path, capsys):
    png = tmp_path / "none.png"
    rc = main(["predict", str(shared_data / "video" / "pyfeat_no_face.mp4"),
               "--model", str(model_path), "--out", str(png)])
    captured = capsys.readouterr()
    assert rc == 2
    assert "skmer predict: error: no face found" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not png.exists()


def test_predict_model_contract_errors(tmp_path, model_path, capsys):
    from skmer.io import save_model

    bare = save_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]),
                      tmp_path / "bare.joblib")
    rc = main(["predict", str(tmp_path / "missing.mp4"), "--model", str(bare)])
    assert rc == 2
    assert "Cannot tell the face-crop size" in capsys.readouterr().err
    rc = main(["predict", str(tmp_path / "missing.mp4"), "--model",
               str(model_path)])
    assert rc == 2
    assert "does not exist" in capsys.readouterr().err
    rc = main(["predict", "x.mp4", "--model", str(tmp_path / "nope.joblib")])
    assert rc == 2
    assert "nope.joblib" in capsys.readouterr().err


def test_model_frame_shape_and_flatten():
    from sklearn.pipeline import Pipeline

    from skmer.predict import flatten_samples, model_frame_shape
    from skmer.preprocessing import FlowExtractor

    flow = FlowExtractor(method="dis").fit([np.zeros((2, 40, 30), np.uint8)])
    pipe = Pipeline([("flow", flow), ("clf", LogisticRegression())])
    assert model_frame_shape(pipe) == (40, 30)
    assert model_frame_shape(pipe, {"frame_shape": [64, 64]}) == (64, 64)
    assert model_frame_shape(LogisticRegression()) is None
    X = np.arange(24).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(flatten_samples(X)[1], np.arange(12, 24))


def test_make_predict_pipeline_takes_an_estimator_or_svm():
    from skmer.predict import make_predict_pipeline

    clf = LogisticRegression()
    pipe = make_predict_pipeline(clf, flow_size=(20, 20))
    assert pipe.named_steps["clf"] is clf
    assert pipe.named_steps["flow"].output_size == (20, 20)
    assert make_predict_pipeline("svm").named_steps["clf"].steps[-1][0] == "svc"
    with pytest.raises(ValueError, match=r"STSTNetClassifier\(\)"):
        make_predict_pipeline("ststnet")
    with pytest.raises(ValueError, match="predict_proba"):
        make_predict_pipeline(object())
