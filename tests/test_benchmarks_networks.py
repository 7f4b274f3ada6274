"""Smoke test of ``benchmarks/networks.py`` (tiny networks, one timed step)."""

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = {"MSRes3D", "ARTNet", "MOL", "STSTNet", "OFF-ApexNet"}


def _load():
    spec = importlib.util.spec_from_file_location(
        "skmer_bench_networks", ROOT / "benchmarks" / "networks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load()


def _h100_rows(name, rows):
    return {"device": name, "kind": "cuda", "measured_by": "imported", "rows": rows}


def _row(prec, clips, batch=32, source="a.json", reference=None):
    return {"network": "MSRes3D", "precision": prec, "input": "3x16x134x134",
            "width": 1.0, "batch_size": batch, "source": source,
            "train_clips_per_s": clips, "classifier_setting": prec == "mixed fp16",
            "reference": prec == "fp32" if reference is None else reference}


def test_target_verdict_oracle(bench):
    fp32, ieee, mixed = bench.FP32, bench.FP32_IEEE, bench.MIXED
    devices = {"NVIDIA H100 80GB HBM3": _h100_rows("NVIDIA H100 80GB HBM3", [
        _row(ieee, 50.0), _row(fp32, 200.0), _row(mixed, 300.0),
        # an fp32 row that is not the reference is not a denominator
        _row(fp32, 10.0, reference=False),
        # other batch / other source: paired only within their group
        _row(fp32, 100.0, batch=8, source="b.json"),
        _row(mixed, 190.0, batch=8, source="b.json")])}
    v = bench.target_verdict(devices)
    ratios = sorted(round(p["ratio"], 3) for p in v["pairs"])
    assert ratios == [1.5, 1.9, 6.0]
    assert v["met_vs_ieee_fp32"] is True and v["met_vs_default_fp32"] is False
    assert "IEEE fp32 (TF32 off) only" in v["summary"]
    # not an H100: not judged
    other = {"NVIDIA A100": dict(devices["NVIDIA H100 80GB HBM3"])}
    assert bench.target_verdict(other)["pairs"] == []


def test_main_tiny_cpu(bench, tmp_path):
    # an earlier device's section must survive the run
    earlier = {"device": "Some GPU", "kind": "cuda",
               "measured_by": "benchmarks/networks.py (this script)",
               "command": "python benchmarks/networks.py", "date": "earlier",
               "wall_s": 1.0, "meta": {}, "rows": []}
    (tmp_path / "networks.json").write_text(
        json.dumps({"devices": {"Some GPU": earlier}}))
    result = bench.main(["--tiny", "--device", "cpu", "--threads", "1",
                         "--steps", "1", "--out-dir", str(tmp_path)])
    on_disk = json.loads((tmp_path / "networks.json").read_text())
    assert on_disk == json.loads(json.dumps(result))
    name = bench.device_name("cpu")
    assert "CPU (" in name and "cores)" in name
    devices = on_disk["devices"]
    assert devices["Some GPU"] == earlier
    sec = devices[name]
    assert sec["kind"] == "cpu" and sec["meta"]["tiny"] is True
    assert sec["meta"]["torch_threads"] == 1
    rows = sec["rows"]
    assert {r["network"] for r in rows} == NETWORKS
    for r in rows:
        assert r["train_clips_per_s"] > 0
        assert r["latency_ms_1"] > 0 and r["latency_ms_per_clip_batch"] > 0
        assert r["n_params"] > 0 and r["peak_memory_mb"] >= 0
        assert r["precision"] == "fp32"  # no mixed precision on the CPU
        assert r["train_ratio_vs_fp32"] == pytest.approx(1.0)
    # the per-network scripts' GPU rows are imported as their device's section
    imported = [s for dev, s in devices.items() if dev not in (name, "Some GPU")]
    assert imported  # the H100 rows in benchmarks/results/networks_*.json
    for s in imported:
        assert s["kind"] == "cuda" and s["sources"] and s["rows"]
        assert all(r["source"] in s["sources"] for r in s["rows"])
    md = (tmp_path / "networks.md").read_text()
    assert md.startswith("# Cost of skmer's networks")
    assert "**Target**" in md and "**Verdict:**" in md
    assert f"## {name}" in md and "## Some GPU" in md


def test_unknown_network_rejected(bench, tmp_path):
    with pytest.raises(SystemExit):
        bench.main(["--networks", "resnet", "--out-dir", str(tmp_path)])
