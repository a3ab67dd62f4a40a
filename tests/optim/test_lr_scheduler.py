"""Learning-rate schedulers against PyTorch's, step for step, and exact resume from state dicts."""
import math
import warnings

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import optim

STEPS = 300
LRS = (0.1, 0.02)  # two parameter groups with different rates


def _optimizer(lib, kind="sgd"):
    if lib == "torch":
        params = [torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)]
        module = torch.optim
    else:
        params = [gk.zeros(3, requires_grad=True), gk.zeros(2, requires_grad=True)]
        module = optim
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, LRS)]
    if kind == "adam":
        return module.Adam(groups)
    return module.SGD(groups, momentum=0.9)


def _sched(lib):
    return torch.optim.lr_scheduler if lib == "torch" else optim.lr_scheduler


def _times_two(epoch):
    return 0.5 * (1 + math.sin(epoch / 7))


# name -> (optimizer kind, factory(scheduler module, optimizer) -> scheduler)
CASES = {
    "LambdaLR": ("sgd", lambda S, o: S.LambdaLR(o, lambda e: 0.97 ** e)),
    "LambdaLR-per-group": ("sgd", lambda S, o: S.LambdaLR(o, [lambda e: 1 / (1 + e), _times_two])),
    "MultiplicativeLR": ("sgd", lambda S, o: S.MultiplicativeLR(o, lambda e: 0.99 if e % 3 else 1.01)),
    "StepLR": ("sgd", lambda S, o: S.StepLR(o, step_size=30, gamma=0.5)),
    "MultiStepLR": ("sgd", lambda S, o: S.MultiStepLR(o, milestones=[20, 80, 80, 150], gamma=0.3)),
    "ConstantLR": ("sgd", lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=40)),
    "LinearLR": ("sgd", lambda S, o: S.LinearLR(o, start_factor=0.05, end_factor=0.9, total_iters=120)),
    "ExponentialLR": ("sgd", lambda S, o: S.ExponentialLR(o, gamma=0.985)),
    "PolynomialLR": ("sgd", lambda S, o: S.PolynomialLR(o, total_iters=170, power=2.5)),
    "CosineAnnealingLR": ("sgd", lambda S, o: S.CosineAnnealingLR(o, T_max=50, eta_min=0.001)),
    "CosineAnnealingLR-past-T_max": ("sgd", lambda S, o: S.CosineAnnealingLR(o, T_max=37)),
    "CosineAnnealingWarmRestarts": ("sgd", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=1e-4)),
    "CosineAnnealingWarmRestarts-T_mult": ("sgd", lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7, T_mult=2)),
    "CyclicLR-triangular": ("sgd", lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=23)),
    "CyclicLR-triangular2": ("sgd", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=20, step_size_down=35,
                                                            mode="triangular2", base_momentum=0.7,
                                                            max_momentum=0.95)),
    "CyclicLR-exp_range": ("sgd", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=15, mode="exp_range",
                                                          gamma=0.995)),
    "CyclicLR-adam-betas": ("adam", lambda S, o: S.CyclicLR(o, 1e-4, 1e-2, step_size_up=30)),
    "CyclicLR-no-momentum": ("adam", lambda S, o: S.CyclicLR(o, 1e-4, 1e-2, step_size_up=30, cycle_momentum=False)),
    "CyclicLR-scale_fn": ("sgd", lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=10, scale_fn=_times_two,
                                                         scale_mode="iterations")),
    "OneCycleLR-cos": ("sgd", lambda S, o: S.OneCycleLR(o, max_lr=[0.5, 0.3], total_steps=STEPS)),
    "OneCycleLR-linear": ("sgd", lambda S, o: S.OneCycleLR(o, max_lr=0.4, epochs=10, steps_per_epoch=30,
                                                           anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR-three_phase-adam": ("adam", lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=STEPS,
                                                                      three_phase=True, div_factor=10.0)),
    "SequentialLR": ("sgd", lambda S, o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.01, total_iters=20),
                                                            S.CosineAnnealingLR(o, T_max=100)], milestones=[20])),
    "SequentialLR-three": ("sgd", lambda S, o: S.SequentialLR(o, [S.ConstantLR(o, factor=0.1, total_iters=10),
                                                                  S.ExponentialLR(o, gamma=0.98),
                                                                  S.StepLR(o, step_size=25)], milestones=[30, 120])),
    "ChainedScheduler": ("sgd", lambda S, o: S.ChainedScheduler([S.ConstantLR(o, factor=0.2, total_iters=15),
                                                                 S.ExponentialLR(o, gamma=0.99),
                                                                 S.CosineAnnealingLR(o, T_max=60)])),
}


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]


def _run(lib, name, steps=STEPS, opt=None, sched=None):
    kind, factory = CASES[name]
    opt = opt or _optimizer(lib, kind)
    sched = sched or factory(_sched(lib), opt)
    lrs, momenta = [sched.get_last_lr()[:]], [_momenta(opt)]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        momenta.append(_momenta(opt))
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    return lrs, momenta, opt, sched


def _steps(name):
    return STEPS - 1 if name.startswith("OneCycleLR") else STEPS


@pytest.mark.parametrize("name", list(CASES))
def test_schedule_matches_pytorch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_lrs, want_momenta, *_ = _run("torch", name, _steps(name))
    got_lrs, got_momenta, *_ = _run("gradkit", name, _steps(name))
    np.testing.assert_array_equal(np.array(got_lrs), np.array(want_lrs))  # bit for bit, hundreds of steps
    np.testing.assert_array_equal(np.array(got_momenta), np.array(want_momenta))
    assert len(set(map(tuple, got_lrs))) > 1, "the schedule never changed the rate"


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("load_order", ["optimizer-first", "scheduler-first"])
def test_resume_is_exact(name, load_order):
    """Stop at step k, rebuild optimizer and scheduler, load both state dicts (in either order: gradkit's
    scheduler puts its rates back into the optimizer) and continue: the same as never stopping."""
    kind, factory = CASES[name]
    total, k = _steps(name), 123
    want_lrs, want_momenta, *_ = _run("gradkit", name, total)
    _, _, opt, sched = _run("gradkit", name, k)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    new_opt = _optimizer("gradkit", kind)
    new_sched = factory(optim.lr_scheduler, new_opt)
    if load_order == "optimizer-first":
        new_opt.load_state_dict(opt_state)
        new_sched.load_state_dict(sched_state)
    else:
        new_sched.load_state_dict(sched_state)
        new_opt.load_state_dict(opt_state)
    lrs, momenta, *_ = _run("gradkit", name, total - k, opt=new_opt, sched=new_sched)
    assert lrs == want_lrs[k:]
    assert momenta[1:] == want_momenta[k + 1:]


def test_resume_with_only_the_scheduler_state_restores_the_rates():
    """PyTorch's trap: a new scheduler resets the optimizer's rates; loading only the scheduler state
    leaves them wrong there. Here the scheduler's state dict carries them."""
    _, _, opt, sched = _run("gradkit", "ExponentialLR", 50)
    new_opt = _optimizer("gradkit")
    new_sched = optim.lr_scheduler.ExponentialLR(new_opt, gamma=0.985)
    new_sched.load_state_dict(sched.state_dict())
    assert [g["lr"] for g in new_opt.param_groups] == [g["lr"] for g in opt.param_groups]
    opt.step(), sched.step(), new_opt.step(), new_sched.step()
    assert new_sched.get_last_lr() == sched.get_last_lr()


def test_state_dict_keys_match_pytorch_and_exclude_functions():
    for name in ("StepLR", "CosineAnnealingLR", "LambdaLR", "CyclicLR-triangular", "OneCycleLR-cos"):
        kind, factory = CASES[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_state = factory(torch.optim.lr_scheduler, _optimizer("torch", kind)).state_dict()
        g_state = factory(optim.lr_scheduler, _optimizer("gradkit", kind)).state_dict()
        assert set(g_state) <= set(t_state) | {"_is_initial"}, name
        assert {"last_epoch", "base_lrs", "_last_lr", "_step_count"} <= set(g_state), name
        for value in g_state.values():
            assert not callable(value) or isinstance(value, type), name
    state = CASES["LambdaLR"][1](optim.lr_scheduler, _optimizer("gradkit")).state_dict()
    assert state["lr_lambdas"] == [None, None]


def test_callable_object_lambda_state_is_saved():
    class Warmup:
        def __init__(self, steps):
            self.steps = steps

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    fn = Warmup(10)
    sched = optim.lr_scheduler.LambdaLR(_optimizer("gradkit"), fn)
    fn.steps = 20
    state = sched.state_dict()
    assert state["lr_lambdas"][0] == {"steps": 20}
    other = Warmup(10)
    optim.lr_scheduler.LambdaLR(_optimizer("gradkit"), other).load_state_dict(state)
    assert other.steps == 20


@pytest.mark.parametrize("options", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.05),
                                     dict(factor=0.5, patience=3, cooldown=4, min_lr=[0.01, 0.004]),
                                     dict(mode="min", threshold_mode="abs", patience=0, eps=1e-3, factor=0.9),
                                     dict(mode="max", patience=2, min_lr=0.005)])
def test_reduce_lr_on_plateau_matches_pytorch(options):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1, 0.5, 30), 0.5 + 0.01 * rng.standard_normal(120),
                              np.linspace(0.5, 0.2, 20), 0.2 + 0.02 * rng.standard_normal(130)])
    if options.get("mode") == "max":
        metrics = -metrics
    t_opt, g_opt = _optimizer("torch"), _optimizer("gradkit")
    t_sched = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **options)
    g_sched = optim.lr_scheduler.ReduceLROnPlateau(g_opt, **options)
    seen = set()
    for i, m in enumerate(metrics):
        t_sched.step(m)
        g_sched.step(gk.tensor(m) if i % 2 else float(m))  # a 0-d tensor metric works too
        assert g_sched.get_last_lr() == t_sched.get_last_lr()
        assert g_sched.num_bad_epochs == t_sched.num_bad_epochs and g_sched.best == pytest.approx(t_sched.best)
        seen.add(tuple(g_sched.get_last_lr()))
    assert len(seen) > 1
    # resume mid-way
    state = g_sched.state_dict()
    again = optim.lr_scheduler.ReduceLROnPlateau(_optimizer("gradkit"), **options)
    again.load_state_dict(state)
    for m in metrics[:60]:
        g_sched.step(float(m))
        again.step(float(m))
        assert again.get_last_lr() == g_sched.get_last_lr()


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                                  "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts-T_mult"])
def test_step_with_epoch_uses_the_closed_form(name):
    epochs = [0, 5, 17, 3, 40, 99, 200, 150, 61]
    results = []
    for lib in ("torch", "gradkit"):
        kind, factory = CASES[name]
        opt = _optimizer(lib, kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched = factory(_sched(lib), opt)
            lrs = []
            for e in epochs:
                opt.step()
                sched.step(e)
                lrs.append(list(sched.get_last_lr()))
        results.append(lrs)
    np.testing.assert_allclose(np.array(results[1]), np.array(results[0]), rtol=1e-15, atol=0)


def test_errors():
    S = optim.lr_scheduler
    with pytest.raises(TypeError, match="not an Optimizer"):
        S.StepLR(object(), step_size=3)
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_optimizer("gradkit"), step_size=3, last_epoch=5)
    with pytest.raises(ValueError, match="factor"):
        S.ConstantLR(_optimizer("gradkit"), factor=2.0)
    with pytest.raises(ValueError, match="start_factor"):
        S.LinearLR(_optimizer("gradkit"), start_factor=0)
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.OneCycleLR(optim.Adagrad([gk.zeros(2, requires_grad=True)]), max_lr=0.1, total_steps=10)
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(_optimizer("gradkit"), max_lr=0.1)
    sched = S.OneCycleLR(_optimizer("gradkit"), max_lr=0.1, total_steps=3)
    with pytest.raises(ValueError, match="total_steps is 3"):
        for _ in range(4):
            sched.step()
    with pytest.raises(ValueError, match="T_0"):
        S.CosineAnnealingWarmRestarts(_optimizer("gradkit"), T_0=0)
    with pytest.raises(ValueError, match="milestone"):
        opt = _optimizer("gradkit")
        S.SequentialLR(opt, [S.StepLR(opt, 3), S.StepLR(opt, 4)], milestones=[])
    with pytest.raises(ValueError, match="another optimizer"):
        opt = _optimizer("gradkit")
        S.ChainedScheduler([S.StepLR(opt, 3), S.StepLR(_optimizer("gradkit"), 4)])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        opt = _optimizer("gradkit")
        S.ChainedScheduler([S.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="mode"):
        S.ReduceLROnPlateau(_optimizer("gradkit"), mode="maximum")
    with pytest.raises(ValueError, match="factor"):
        S.ReduceLROnPlateau(_optimizer("gradkit"), factor=1.5)


def test_schedule_values_and_plot(tmp_path):
    from gradkit.viz.schedule import plot_schedule, schedule_values
    values = schedule_values(lambda o: optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.5), 25, lr=0.2)
    assert [v[0] for v in values[::10]] == [0.2, 0.1, 0.05]
    plateau = schedule_values(lambda o: optim.lr_scheduler.ReduceLROnPlateau(o, patience=1), 5, lr=0.2,
                              metrics=[1.0] * 5)
    assert plateau[-1][0] < 0.2
    pytest.importorskip("matplotlib")
    path = plot_schedule(lambda o: optim.lr_scheduler.OneCycleLR(o, 0.5, total_steps=50), 49,
                         str(tmp_path / "schedule.png"))
    assert (tmp_path / "schedule.png").stat().st_size > 0 and path.endswith("schedule.png")


def test_step_and_cosine_reject_impossible_periods():
    import pytest
    import gradkit as gk
    opt = gk.optim.SGD([gk.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="StepLR: step_size must be a positive integer, got -1"):
        gk.optim.lr_scheduler.StepLR(opt, step_size=-1)
    with pytest.raises(ValueError, match="CosineAnnealingLR: T_max must be positive, got -5"):
        gk.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=-5)
