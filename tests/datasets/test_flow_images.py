import shutil

import numpy as np
import pandas as pd
import pytest

from skmer.datasets import load_flow_images


def test_megc2019_composite_counts(megc2019_dir):
    d = load_flow_images(megc2019_dir / "flow_uvos_28",
                         megc2019_dir / "labels_3class.csv")
    assert d.data.shape == (442, 3, 28, 28) and d.data.dtype == np.float32
    assert d.data.min() >= 0 and d.data.max() <= 1
    assert len(np.unique(d.groups)) == 68
    assert d.target_names == ["negative", "positive", "surprise"]
    counts = {ds: np.bincount(d.target[d.datasets == ds], minlength=3).tolist()
              for ds in ("smic", "casme2", "samm")}
    assert counts == {"smic": [70, 51, 43], "casme2": [88, 32, 25],
                      "samm": [92, 26, 15]}
    assert {g.split("/")[0] for g in d.groups} == {"smic", "casme2", "samm"}
    assert "casme2/sub01" in set(d.groups) and "samm/006" in set(d.groups)
    # every channel of every image is min-max scaled: min 0 and max 1
    assert np.allclose(d.data.min(axis=(2, 3)), 0)
    assert np.allclose(d.data.max(axis=(2, 3)), 1)
    X, y, groups = load_flow_images(megc2019_dir / "flow_uvos_28", return_X_y=True)
    np.testing.assert_array_equal(X, d.data)


def test_channel_order_is_u_v_strain(tmp_path):
    import cv2

    (tmp_path / "flow").mkdir()
    img_bgr = np.zeros((4, 4, 3), np.uint8)
    img_bgr[..., 0] = 10  # B = strain
    img_bgr[..., 1] = 20  # G = v
    img_bgr[..., 2] = 30  # R = u
    cv2.imwrite(str(tmp_path / "flow" / "sub01_EP01 .png"), img_bgr)
    pd.DataFrame({"dataset": ["casme2"], "sub": ["sub01"], "filename_o": ["EP01"],
                  "label": [2]}).to_csv(tmp_path / "labels.csv", index=False)
    d = load_flow_images(tmp_path / "flow", tmp_path / "labels.csv")
    np.testing.assert_allclose(d.data[0, :, 0, 0], np.array([30, 20, 10]) / 255)
    assert d.groups[0] == "casme2/sub01" and d.ids[0] == "casme2/sub01/EP01"


def test_errors(tmp_path, megc2019_dir):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_flow_images(tmp_path / "none")
    flow = tmp_path / "flow"
    flow.mkdir()
    with pytest.raises(FileNotFoundError, match="Labels CSV"):
        load_flow_images(flow)
    labels = pd.read_csv(megc2019_dir / "labels_3class.csv", dtype=str).head(3)
    labels.to_csv(tmp_path / "labels.csv", index=False)
    for name in ("sub01_EP02_01f", "sub01_EP19_05f"):
        shutil.copy(megc2019_dir / "flow_uvos_28" / f"{name} .png", flow)
    with pytest.raises(FileNotFoundError, match="names sample sub01/EP19_06f"):
        load_flow_images(flow, tmp_path / "labels.csv")
    (flow / "sub01_EP19_06f .png").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt"):
        load_flow_images(flow, tmp_path / "labels.csv")
    labels.drop(columns="label").to_csv(tmp_path / "nolabel.csv", index=False)
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['label'\]"):
        load_flow_images(flow, tmp_path / "nolabel.csv")
    labels.assign(label=[0, 1, 7]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match="outside 0"):
        load_flow_images(flow, tmp_path / "bad.csv")
