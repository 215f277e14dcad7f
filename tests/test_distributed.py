"""nblib.distributed: two torchrun workers (gloo, this machine) train exactly what one process trains on the
combined batch, with DistributedDataParallel and with a hand-written all-reduce.

The launch test starts real processes (torchrun and two workers, a few seconds of interpreter start-up);
it runs in CI with the rest of the suite. Everything else is in-process and fast.
"""

import socket

import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

from nblib.distributed import (  # noqa: E402
    Config, free_port, launch, main, make_data, make_model, shard, torchrun_command, train_single)

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")


def _max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(a, b))


@pytest.mark.parametrize(("n", "rank", "world", "expected"), [
    (8, 0, 2, slice(0, 4)), (8, 1, 2, slice(4, 8)), (12, 2, 3, slice(8, 12)), (5, 0, 1, slice(0, 5))])
def test_shard(n, rank, world, expected):
    assert shard(n, rank, world) == expected


def test_shards_cover_the_batch_and_reject_bad_arguments():
    assert sorted(i for r in range(4) for i in range(32)[shard(32, r, 4)]) == list(range(32))
    with pytest.raises(ValueError, match="multiple"):
        shard(10, 0, 4)
    with pytest.raises(ValueError, match="rank"):
        shard(8, 2, 2)


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", port))


def test_torchrun_command_names_the_module_and_the_rendezvous():
    cmd = torchrun_command(2, 12345, ["--steps", 3])
    assert cmd[1:3] == ["-m", "torch.distributed.run"]
    assert "--nproc_per_node=2" in cmd and "--master_addr=127.0.0.1" in cmd and "--master_port=12345" in cmd
    assert cmd[-4:] == ["-m", "nblib.distributed", "--steps", "3"]


def test_reference_is_deterministic_and_learns():
    a, b = train_single(Config(steps=6)), train_single(Config(steps=6))
    assert _max_diff(a["params"], b["params"]) == 0
    assert a["losses"][-1] < a["losses"][0]
    X, y = make_data(Config(steps=2, batch=8))
    assert X.shape == (16, 8) and y.shape == (16, 1) and X.dtype == torch.float64


def test_worker_in_this_process_with_world_size_one(tmp_path, monkeypatch):
    """The script's entry point, run in-process as a group of one: it must equal the reference exactly."""
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(free_port()))
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    out = tmp_path / "one.pt"
    main(["--steps", "4", "--modes", "allreduce", "--out", str(out)])
    assert not dist.is_initialized(), "the worker must destroy its process group"
    res = torch.load(out)
    assert res["world_size"] == 1 and set(res) >= {"allreduce"} and "ddp" not in res
    assert _max_diff(res["allreduce"]["params"], train_single(Config(steps=4))["params"]) == 0


@pytest.mark.slow
def test_two_processes_equal_one_process_on_the_combined_batch(tmp_path):
    cfg = Config(steps=8, batch=16)
    out = tmp_path / "result.pt"
    done = launch(2, ["--steps", cfg.steps, "--batch", cfg.batch, "--out", out], timeout=120)
    assert "world size 2" in done.stdout
    res = torch.load(out)
    ref = train_single(cfg)
    assert res["world_size"] == 2
    for mode in ("ddp", "allreduce"):
        # float64: two half-batch sums round differently from one full-batch sum, and no more
        assert _max_diff(res[mode]["params"], ref["params"]) < 1e-12, mode
        assert res[mode]["max_rank_gap"] == 0, "both ranks must hold identical parameters"
        assert max(abs(a - b) for a, b in zip(res[mode]["losses"], ref["losses"])) < 1e-12
    # and the training did move the parameters: the check is not vacuous
    init = [p.detach() for p in make_model(cfg).parameters()]
    assert _max_diff(res["ddp"]["params"], init) > 1e-3


def test_launch_timeout_kills_the_workers():
    with pytest.raises(TimeoutError, match="killed"):
        launch(2, ["--steps", 2], timeout=0.5)

